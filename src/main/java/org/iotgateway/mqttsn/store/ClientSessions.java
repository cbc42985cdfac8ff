package org.iotgateway.mqttsn.store;

import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ZAddArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

/**
 * What MQTT-SN keeps of a client beyond the Python gateway's keys: its state and keep-alive, its will, and its QoS 2
 * messages between PUBREC and PUBREL. All of it lives in the store, so that any instance serves any packet of the
 * client's and an instance can stop without losing a session:
 * <ul>
 *   <li>{@code session:{clientId}}, a hash: {@code state} (active, asleep, disconnected or lost), {@code keepalive}
 *   (the CONNECT's duration, seconds), {@code sleep} (the DISCONNECT's duration while asleep) and {@code address}
 *   (where messages for it go: {@code ip|port|forwarder ctrl|node id hex}, from its CONNECT or its waking PINGREQ);</li>
 *   <li>{@code will:{clientId}}, a hash: {@code topic}, {@code flags} (QoS and retain, as in WILLTOPIC) and
 *   {@code payload} (base64);</li>
 *   <li>{@code mqttsn:deadlines}, a sorted set: each supervised client scored by the epoch milliseconds after which it
 *   is lost;</li>
 *   <li>{@code qos2:{clientId}}, a hash by message id of the QoS 2 PUBLISH messages under way: the epoch
 *   milliseconds it arrived while it is being routed, {@code received} from its PUBREC until the client's PUBREL.</li>
 * </ul>
 * Every instance looks for expired deadlines every second and claims them in one script, so that exactly one instance
 * publishes each lost client's will. A claim moves the deadline on by a lease instead of removing it: should the
 * instance fail to publish the will (or stop), another claims it again when the lease runs out.
 * <p>
 * A deadline is written at most once every 5 % of the client's period (at least a second) per instance, not for every
 * packet, and with that much slack added, so that a client is never declared lost before the specification's
 * tolerance: 50 % above periods under a minute, 10 % above longer ones.
 * <p>
 * The names are those on one server; on a Redis Cluster they carry the client's bucket ({@link KeyLayout}), and each
 * bucket has its own deadlines.
 */
public final class ClientSessions {

    static final String SESSION_PREFIX = "session:";
    static final String WILL_PREFIX = "will:";
    static final String QOS2_PREFIX = "qos2:";
    static final String DEADLINES = "mqttsn:deadlines";

    /** How long a QoS 2 PUBLISH may be routed before a retry of it is routed again (its instance stopped meanwhile). */
    private static final long QOS2_PENDING_MILLIS = 60_000;
    /** A lost client's will is retried this long after a claim that did not settle. */
    private static final long CLAIM_LEASE_MILLIS = 30_000;
    private static final int CLAIMS_PER_CHECK = 500;

    /** Renews the deadline of an active or sleeping client; returns its period in seconds, 0 when it is not supervised. */
    private static final String TOUCH_SCRIPT = """
            local s = redis.call('HMGET', KEYS[1], 'state', 'keepalive', 'sleep')
            local period
            if s[1] == 'active' then period = tonumber(s[2]) elseif s[1] == 'asleep' then period = tonumber(s[3]) end
            if not period or period <= 0 then return 0 end
            local tolerance = period < 60 and 1500 or 1100
            local slack = math.max(1000, period * 50)
            redis.call('ZADD', KEYS[2], tonumber(ARGV[1]) + period * tolerance + slack, ARGV[2])
            return period
            """;

    /** Claims the lost clients: state lost, deadline moved on by the lease; returns id, will topic, flags, payload. */
    private static final String CLAIM_SCRIPT = """
            local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
            local out = {}
            local tag = ARGV[5]
            for _, id in ipairs(due) do
              redis.call('ZADD', KEYS[1], ARGV[2], id)
              redis.call('HSET', 'session:' .. tag .. id, 'state', 'lost')
              redis.call('EXPIRE', 'session:' .. tag .. id, ARGV[4])
              local will = redis.call('HMGET', 'will:' .. tag .. id, 'topic', 'flags', 'payload')
              out[#out + 1] = id
              out[#out + 1] = will[1] or ''
              out[#out + 1] = will[2] or '0'
              out[#out + 1] = will[3] or ''
            end
            return out
            """;

    /** Ends a claim: unless the client connected again meanwhile (its deadline moved), no deadline and no will. */
    private static final String SETTLE_SCRIPT = """
            if tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1])) == tonumber(ARGV[2]) then
              redis.call('ZREM', KEYS[1], ARGV[1])
              redis.call('DEL', KEYS[2])
              return 1
            end
            return 0
            """;

    /**
     * Starts a QoS 2 PUBLISH unless it is known: returns new, pending or received. A mark left pending longer than the
     * pending time (its instance stopped while routing it) is taken over.
     */
    private static final String QOS2_BEGIN_SCRIPT = """
            local now = tonumber(ARGV[2])
            local mark = redis.call('HGET', KEYS[1], ARGV[1])
            if mark == 'received' then return 'received' end
            if mark and now - tonumber(mark) < tonumber(ARGV[3]) then return 'pending' end
            redis.call('HSET', KEYS[1], ARGV[1], now)
            redis.call('EXPIRE', KEYS[1], ARGV[4])
            return 'new'
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final KeyLayout keys;
    private final long sessionTtlSeconds;
    /** Why no bucket answered the last keep-alive check (the store unreachable), or null. */
    private volatile String unanswered;
    /** When this instance may next write a client's deadline; evicted when another writes its session. */
    private final Cache<String, Touched> touched;

    private record Touched(long nextNanos) {
    }

    /** A client whose deadline passed, as claimed: its will (topic null when it has none) and the claim's lease. */
    public record LostClient(String clientId, String willTopic, int willFlags, byte[] willPayload, String lease) {
    }

    /** What the store knew of a QoS 2 PUBLISH's message id when it arrived. */
    public enum Qos2 { NEW, PENDING, RECEIVED }

    ClientSessions(RedisClusterAsyncCommands<String, String> redis, KeyLayout keys, Duration sessionTtl, long maxCachedClients) {
        this.redis = redis;
        this.keys = keys;
        this.sessionTtlSeconds = sessionTtl.toSeconds();
        this.touched = Caffeine.newBuilder().maximumSize(maxCachedClients).build();
    }

    /**
     * CONNECT: the client is active with its keep-alive period (0: not supervised); without the Will flag any will it
     * had is gone, with it the will comes in WILLTOPIC and WILLMSG. A clean session forgets its QoS 2 messages.
     */
    public CompletionStage<Void> connect(String clientId, String address, int keepAliveSeconds, boolean will,
                                         boolean cleanSession) {
        String session = keys.client(SESSION_PREFIX, clientId);
        if (cleanSession) {
            redis.del(keys.client(QOS2_PREFIX, clientId));
        }
        redis.hset(session, Map.of("state", "active", "keepalive", Integer.toString(keepAliveSeconds), "address", address));
        redis.hdel(session, "sleep");
        redis.expire(session, sessionTtlSeconds);
        if (!will) {
            redis.del(keys.client(WILL_PREFIX, clientId));
        }
        touched.invalidate(clientId);
        CompletableFuture<?> deadline = keepAliveSeconds > 0
                ? touch(clientId, true)
                : redis.zrem(keys.ofClientsBucket(DEADLINES, clientId), clientId).toCompletableFuture();
        return deadline.thenApply(x -> null);
    }

    /** WILLTOPIC or WILLTOPICUPD: sets the will's topic and flags, or deletes the will when the topic is null. */
    public CompletionStage<Void> willTopic(String clientId, int flags, String topic) {
        String will = keys.client(WILL_PREFIX, clientId);
        if (topic == null) {
            return redis.del(will).toCompletableFuture().thenApply(x -> null);
        }
        redis.hset(will, Map.of("topic", topic, "flags", Integer.toString(flags)));
        return redis.expire(will, sessionTtlSeconds).toCompletableFuture().thenApply(x -> null);
    }

    /** WILLMSG or WILLMSGUPD: sets the will's payload. */
    public CompletionStage<Void> willMessage(String clientId, byte[] payload) {
        String will = keys.client(WILL_PREFIX, clientId);
        redis.hset(will, "payload", Base64.getEncoder().encodeToString(payload));
        return redis.expire(will, sessionTtlSeconds).toCompletableFuture().thenApply(x -> null);
    }

    /**
     * Any packet of the client's: renews its deadline, unless this instance did so recently. A client that is not
     * supervised (no keep-alive, disconnected, lost) is asked about again after a minute, or at once when another
     * instance changes its session.
     */
    public void touch(String clientId) {
        Touched last = touched.getIfPresent(clientId);
        if (last == null || System.nanoTime() - last.nextNanos() >= 0) {
            touch(clientId, false);
        }
    }

    private CompletableFuture<Long> touch(String clientId, boolean force) {
        long now = System.nanoTime();
        // a placeholder first, so that the packets that follow do not ask too while this is on its way
        touched.put(clientId, new Touched(now + Duration.ofSeconds(1).toNanos()));
        return redis.<Long>eval(TOUCH_SCRIPT, ScriptOutputType.INTEGER,
                        new String[] {keys.client(SESSION_PREFIX, clientId), keys.ofClientsBucket(DEADLINES, clientId)},
                        Long.toString(System.currentTimeMillis()), clientId)
                .toCompletableFuture()
                .whenComplete((period, e) -> {
                    if (period != null) {
                        long every = period == 0 ? Duration.ofMinutes(1).toNanos()
                                : Math.max(Duration.ofSeconds(1).toNanos(), Duration.ofMillis(period * 50).toNanos());
                        touched.put(clientId, new Touched(now + every));
                    }
                });
    }

    /** DISCONNECT without a duration: no will, no supervision; the client's registrations stay (meters sleep). */
    public CompletionStage<Void> disconnect(String clientId) {
        touched.invalidate(clientId);
        redis.hset(keys.client(SESSION_PREFIX, clientId), "state", "disconnected");
        redis.del(keys.client(WILL_PREFIX, clientId));
        return redis.zrem(keys.ofClientsBucket(DEADLINES, clientId), clientId).toCompletableFuture().thenApply(x -> null);
    }

    /** DISCONNECT with a duration: asleep, lost unless it wakes (PINGREQ with its client id) within the duration. */
    public CompletionStage<Void> sleep(String clientId, int seconds) {
        redis.hset(keys.client(SESSION_PREFIX, clientId), Map.of("state", "asleep", "sleep", Integer.toString(seconds)));
        touched.invalidate(clientId);
        return touch(clientId, true).thenApply(x -> null);
    }

    /** A protocol error from the client: it is lost at the next check (its will published, if it has one). */
    public void lost(String clientId) {
        touched.invalidate(clientId);
        redis.zadd(keys.ofClientsBucket(DEADLINES, clientId), ZAddArgs.Builder.xx(), 0, clientId);
    }

    /**
     * Claims the clients whose deadline has passed; each is claimed by one caller, until its lease runs out. On a
     * Cluster, one script per bucket.
     */
    public CompletionStage<List<LostClient>> claimLost() {
        long now = System.currentTimeMillis();
        String lease = Long.toString(now + CLAIM_LEASE_MILLIS);
        return KeyLayout.<LostClient>inBuckets("keep-alive check", keys.all(), 1, bucket -> redis.eval(CLAIM_SCRIPT, ScriptOutputType.MULTI,
                new String[] {keys.ofBucket(DEADLINES, bucket)}, Long.toString(now), lease, Integer.toString(CLAIMS_PER_CHECK),
                Long.toString(sessionTtlSeconds), keys.tag(bucket)), (flat, lost) -> {
                    for (int i = 0; i + 3 < flat.size(); i += 4) {
                        String clientId = String.valueOf(flat.get(i));
                        touched.invalidate(clientId);
                        String topic = String.valueOf(flat.get(i + 1));
                        lost.add(new LostClient(clientId, topic.isEmpty() ? null : topic,
                                Integer.parseInt(String.valueOf(flat.get(i + 2))),
                                Base64.getDecoder().decode(String.valueOf(flat.get(i + 3))), lease));
                    }
                }).whenComplete((lost, e) -> unanswered = e == null ? null : String.valueOf((e.getCause() == null ? e : e.getCause()).getMessage()));
    }

    /** Why no bucket answered the last keep-alive check, or null when one did (or none ran yet). */
    String unanswered() {
        return unanswered;
    }

    /** The lost client's will is published (or it had none): its claim ends, unless it connected again meanwhile. */
    public CompletionStage<Boolean> settle(LostClient client) {
        return redis.<Long>eval(SETTLE_SCRIPT, ScriptOutputType.INTEGER,
                        new String[] {keys.ofClientsBucket(DEADLINES, client.clientId()), keys.client(WILL_PREFIX, client.clientId())}, client.clientId(), client.lease())
                .thenApply(settled -> settled == 1);
    }

    /** A QoS 2 PUBLISH arrived: whether its message id is new, being routed, or already received (answered PUBREC). */
    public CompletionStage<Qos2> qos2Begin(String clientId, int msgId) {
        return redis.<String>eval(QOS2_BEGIN_SCRIPT, ScriptOutputType.VALUE, new String[] {keys.client(QOS2_PREFIX, clientId)},
                        Integer.toString(msgId), Long.toString(System.currentTimeMillis()),
                        Long.toString(QOS2_PENDING_MILLIS), Long.toString(sessionTtlSeconds))
                .thenApply(state -> Qos2.valueOf(state.toUpperCase(Locale.ROOT)));
    }

    /** The QoS 2 PUBLISH was routed: a resent PUBLISH is answered PUBREC until the client's PUBREL. */
    public CompletionStage<Void> qos2Received(String clientId, int msgId) {
        return redis.hset(keys.client(QOS2_PREFIX, clientId), Integer.toString(msgId), "received")
                .toCompletableFuture().thenApply(x -> null);
    }

    /** The QoS 2 PUBLISH failed: a resent PUBLISH is routed again. Also PUBREL: the exchange is over. */
    public CompletionStage<Void> qos2Forget(String clientId, int msgId) {
        return redis.hdel(keys.client(QOS2_PREFIX, clientId), Integer.toString(msgId)).toCompletableFuture().thenApply(x -> null);
    }

    /** After a forwarded PUBLISH, with the client's other keys: the session and the will live as long as they do. */
    void extendTtl(String clientId) {
        redis.expire(keys.client(SESSION_PREFIX, clientId), sessionTtlSeconds);
        redis.expire(keys.client(WILL_PREFIX, clientId), sessionTtlSeconds);
        redis.expire(keys.client(QOS2_PREFIX, clientId), sessionTtlSeconds);
    }

    /** Another client of the store changed the session: this instance asks again at the client's next packet. */
    void invalidate(String clientId) {
        touched.invalidate(clientId);
    }

    void invalidateAll() {
        touched.invalidateAll();
    }
}
