package org.iotgateway;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.RuntimeCamelException;
import org.apache.camel.cluster.CamelClusterMember;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.support.cluster.AbstractCamelClusterService;
import org.apache.camel.support.cluster.AbstractCamelClusterView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leadership for Camel's {@code master:} endpoints, held as a lease in the Redis/Valkey a route group already uses, so
 * that of several instances exactly one runs a consumer (the Channels worker's routes: several instances, one active).
 * Camel's own cluster services need a shared file system, Kubernetes, ZooKeeper, Consul or a JGroups network; this
 * one needs nothing the group does not have.
 * <p>
 * Each namespace is the key {@code <keyPrefix><namespace>}, holding the leader's id for {@code leaseMillis}. The leader
 * renews it every {@code renewMillis}; the others try to take it at the same pace, so a leader that stops releases it
 * and another takes over within {@code renewMillis}, one that dies within {@code leaseMillis + renewMillis}. A leader
 * that could not renew for most of the lease steps down before the lease can pass to another. Leases are not fencing:
 * a leader paused longer than the lease (a long GC) leads beside its successor until its next renewal fails.
 * <p>
 * Declared as a bean of the route file whose {@code master:} endpoints use it, it adds itself to the Camel context,
 * where the {@code master:} component looks for a cluster service. Readiness check {@code leadership-<namespace>}: DOWN
 * until this instance knows its part, standing by (another holds the lease) or leading (it held the lease at two
 * campaigns in a row, by when its consumers have started and report their own readiness).
 */
public class RedisClusterService extends AbstractCamelClusterService<RedisClusterService.LeaseView> implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(RedisClusterService.class);
    /** Renews the lease of its holder, or takes a lease no one holds: 1 when ARGV[1] holds it afterwards. */
    private static final String CAMPAIGN = """
            local holder = redis.call('GET', KEYS[1])
            if holder == ARGV[1] then
                redis.call('PEXPIRE', KEYS[1], ARGV[2])
                return 1
            end
            if not holder then
                redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
                return 1
            end
            return 0
            """;
    private static final String RELEASE = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
                return redis.call('DEL', KEYS[1])
            end
            return 0
            """;

    private String redisUrl;
    private String keyPrefix = "iot-gateway:leader:";
    private long leaseMillis = 5000;
    private long renewMillis = 1500;
    private final Set<LeaseView> views = ConcurrentHashMap.newKeySet();
    private RedisClient client;
    private StatefulRedisConnection<String, String> connection;
    private ScheduledExecutorService timer;

    public RedisClusterService() {
        setId(hostName() + "-" + UUID.randomUUID().toString().substring(0, 8));
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "gateway";
        }
    }

    /** Adds itself to the context's services, where {@code master:} endpoints find it, unless one is there already. */
    @Override
    public void setCamelContext(CamelContext camelContext) {
        boolean known = getCamelContext() == camelContext;
        super.setCamelContext(camelContext);
        // addService sets the context again: the second call finds it known
        if (!known && camelContext.hasService(RedisClusterService.class) == null) {
            try {
                camelContext.addService(this, true, true);
            } catch (Exception e) {
                throw RuntimeCamelException.wrapRuntimeCamelException(e);
            }
        }
    }

    @Override
    protected LeaseView createView(String namespace) {
        return new LeaseView(this, namespace);
    }

    @Override
    protected void doStart() throws Exception {
        if (leaseMillis < 2 * renewMillis) {
            throw new IllegalArgumentException("leaseMillis (" + leaseMillis + ") must be at least twice renewMillis (" + renewMillis + ")");
        }
        client = ValkeyUri.client(redisUrl);
        connection = client.connect();
        timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "redis-leadership");
            thread.setDaemon(true);
            return thread;
        });
        timer.scheduleWithFixedDelay(() -> views.forEach(LeaseView::campaign), 0, renewMillis, TimeUnit.MILLISECONDS);
        super.doStart();
        LOG.info("Leadership in Redis ({}) as {}: lease {} ms, renewed every {} ms", ValkeyUri.describe(ValkeyUri.parse(redisUrl)),
                getId(), leaseMillis, renewMillis);
    }

    @Override
    protected void doStop() throws Exception {
        // never started (the check of an edited route file makes the bean in a context of its own, and stops it there)
        if (timer == null) {
            return;
        }
        // no campaign after this: the views' leases are released as they stop
        timer.shutdownNow();
        timer.awaitTermination(5, TimeUnit.SECONDS);
        super.doStop();
        views.forEach(LeaseView::release);
        connection.close();
        client.shutdown();
    }

    public void setRedisUrl(String redisUrl) {
        this.redisUrl = redisUrl;
    }

    public void setKeyPrefix(String keyPrefix) {
        this.keyPrefix = keyPrefix;
    }

    public void setLeaseMillis(long leaseMillis) {
        this.leaseMillis = leaseMillis;
    }

    public void setRenewMillis(long renewMillis) {
        this.renewMillis = renewMillis;
    }

    /** One namespace's lease. */
    public static final class LeaseView extends AbstractCamelClusterView {

        private final RedisClusterService service;
        private final String key;
        private final Member local;
        private volatile boolean leader;
        private volatile String holder;
        private long confirmedAt;
        /** Why this instance does not know its part yet; null once it does. */
        private volatile String undecided = "leadership not decided yet";
        private final ReadinessCheck decided;

        LeaseView(RedisClusterService service, String namespace) {
            super(service, namespace);
            this.service = service;
            this.key = service.keyPrefix + namespace;
            this.local = new Member(service.getId(), true);
            this.decided = new ReadinessCheck(namespace, "leadership-" + namespace) {
                @Override
                protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
                    String why = undecided;
                    builder.detail("leader", holder == null ? "none" : holder);
                    if (why == null) {
                        builder.up();
                    } else {
                        builder.message(why).down();
                    }
                }
            };
        }

        @Override
        protected void doStart() {
            decided.register(service.getCamelContext());
            service.views.add(this);
        }

        @Override
        protected void doStop() {
            service.views.remove(this);
            release();
            decided.unregister(service.getCamelContext());
        }

        void campaign() {
            long started = System.nanoTime();
            try {
                Long held = service.connection.sync().eval(CAMPAIGN, ScriptOutputType.INTEGER, new String[] {key},
                        service.getId(), Long.toString(service.leaseMillis));
                if (held == 1) {
                    confirmedAt = started;
                    holder = service.getId();
                    // the consumers start on the first; by the second they report their own readiness
                    undecided = leader ? null : "taking the lead";
                    lead(true);
                } else {
                    holder = service.connection.sync().get(key);
                    undecided = null;
                    lead(false);
                }
            } catch (RuntimeException e) {
                // the lease may pass to another once it expires: step down before it can
                if (undecided != null) {
                    undecided = "leadership not decided: Redis does not answer (" + e.getMessage() + ")";
                }
                if (leader && System.nanoTime() - confirmedAt > TimeUnit.MILLISECONDS.toNanos(service.leaseMillis * 2 / 3)) {
                    LOG.warn("Leadership of {}: cannot renew the lease ({}); stepping down", getNamespace(), e.getMessage());
                    holder = null;
                    lead(false);
                } else {
                    LOG.debug("Leadership of {}: Redis did not answer: {}", getNamespace(), e.getMessage());
                }
            }
        }

        private void lead(boolean now) {
            if (now != leader) {
                leader = now;
                LOG.info("Leadership of {}: {}", getNamespace(), now ? "this instance leads (" + service.getId() + ")"
                        : "led by " + (holder == null ? "no one yet" : holder));
                fireLeadershipChangedEvent(getLeader());
            }
        }

        void release() {
            if (leader) {
                leader = false;
                try {
                    service.connection.sync().eval(RELEASE, ScriptOutputType.INTEGER, new String[] {key}, service.getId());
                } catch (RuntimeException e) {
                    LOG.warn("Leadership of {}: lease not released ({}); it expires in {} ms", getNamespace(), e.getMessage(),
                            service.leaseMillis);
                }
                fireLeadershipChangedEvent(Optional.empty());
            }
        }

        @Override
        public Optional<CamelClusterMember> getLeader() {
            String current = holder;
            if (leader) {
                return Optional.of(local);
            }
            return current == null ? Optional.empty() : Optional.of(new Member(current, false));
        }

        @Override
        public CamelClusterMember getLocalMember() {
            return local;
        }

        @Override
        public List<CamelClusterMember> getMembers() {
            return getLeader().filter(member -> !member.isLocal()).<List<CamelClusterMember>>map(remote -> List.of(local, remote))
                    .orElse(List.of(local));
        }

        /** A member: this instance, or the holder of the lease. */
        private final class Member implements CamelClusterMember {
            private final String id;
            private final boolean isLocal;

            Member(String id, boolean isLocal) {
                this.id = id;
                this.isLocal = isLocal;
            }

            @Override
            public String getId() {
                return id;
            }

            @Override
            public boolean isLeader() {
                return isLocal ? leader : id.equals(holder);
            }

            @Override
            public boolean isLocal() {
                return isLocal;
            }
        }
    }
}
