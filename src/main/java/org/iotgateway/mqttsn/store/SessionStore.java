package org.iotgateway.mqttsn.store;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import java.util.function.Supplier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.event.Event;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ReconnectAttemptEvent;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import org.iotgateway.ValkeyUri;
import org.slf4j.Logger;
import reactor.core.Disposable;
import org.slf4j.LoggerFactory;

/**
 * Clients and their registered topics in Redis/Valkey, in the Python gateway's layout so that both gateways can share
 * one store: {@code client:{address}} holds the client id (a string with a TTL), {@code topic:{clientId}} the list of
 * topic names, where a name's 1-based position is its topic id.
 * <p>
 * With clients keyed by ip (the default), CONNECT writes the Python gateway's {@code client:{ip}} and adds the client
 * to {@code clients-at:{ip}}, the set of clients seen at that address; when several are in it, the exact address
 * {@code client:{ip}:{port}} is written too. A packet is the client of its exact address, else the shared key's client
 * when no other client connected from that address, and is never attributed to another device.
 * <p>
 * Reads go through a bounded near cache. It stays correct with several gateway instances (and the Python gateway)
 * writing to the same store because the connection asks the server to track the {@code client:} and {@code topic:}
 * prefixes (CLIENT TRACKING BCAST NOLOOP): every change another client makes, and every expiry, arrives as an
 * invalidation and evicts the entry. When the connection drops, invalidations may have been missed, so the whole cache
 * is cleared on reconnect. Should the server not support tracking (Redis before 6), entries live at most
 * {@code cacheTtl}.
 * <p>
 * The connection string may name a node of a Redis Cluster: the store then learns the Cluster from it, follows its
 * failovers and reshardings, tracks keys on every master, and names the clients' keys with a hash tag
 * ({@link KeyLayout}).
 */
public final class SessionStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SessionStore.class);

    static final String CLIENT_PREFIX = "client:";
    static final String TOPIC_PREFIX = "topic:";
    /** The set of client ids that connected from a shared address: more than one makes that address ambiguous. */
    static final String CLIENTS_AT_PREFIX = "clients-at:";
    private static final String[] NO_TOPICS = new String[0];

    /**
     * Adds the client to the ones seen at an address unless that would make more than the limit (ARGV[3], 0: none):
     * how many are there then, or -1 when refused.
     */
    private static final String ADMIT_SCRIPT = """
            if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
              local limit = tonumber(ARGV[3])
              if limit > 0 and redis.call('SCARD', KEYS[1]) >= limit then
                return -1
              end
              redis.call('SADD', KEYS[1], ARGV[1])
            end
            redis.call('EXPIRE', KEYS[1], ARGV[2])
            return redis.call('SCARD', KEYS[1])
            """;

    /** Writes a topic list back unless the key exists (someone registered since): the list as it is then. */
    private static final String RESTORE_TOPICS_SCRIPT = """
            if redis.call('EXISTS', KEYS[1]) == 0 then
              redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
              redis.call('EXPIRE', KEYS[1], ARGV[1])
            end
            return redis.call('LRANGE', KEYS[1], 0, -1)
            """;

    /** Returns the existing id of a name, or appends it; 0 when the list already holds every usable id. */
    private static final String REGISTER_SCRIPT = """
            local position = redis.call('LPOS', KEYS[1], ARGV[1])
            if position then
              redis.call('EXPIRE', KEYS[1], ARGV[2])
              return position + 1
            end
            if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[3]) then
              return 0
            end
            local id = redis.call('RPUSH', KEYS[1], ARGV[1])
            redis.call('EXPIRE', KEYS[1], ARGV[2])
            return id
            """;

    /** The longest wait between two attempts to reconnect to the store. */
    static final Duration RECONNECT_DELAY_MAX = Duration.ofMillis(500);

    private final ClientResources resources;
    private final AbstractRedisClient client;
    private final StatefulConnection<String, String> connection;
    private final String address;
    private final RedisClusterAsyncCommands<String, String> redis;
    /** Plain names on one server, the clients' buckets as hash tags on a Cluster. */
    private final KeyLayout keys;
    private final long sessionTtlSeconds;
    private final long ttlRefreshNanos;
    private final int maxTopicsPerClient;
    private final int maxClientsPerAddress;
    private final long maxCachedClients;
    private final Cache<String, ClientEntry> clients;
    private final Cache<String, String[]> topics;
    /**
     * What the near cache held when the store was emptied (FLUSHDB, or a restart without persistence) or the connection
     * dropped: a device the store no longer knows but this instance served is written back on its next packet instead of
     * being disconnected. An entry goes as soon as the store reports a change of its key; the store's answer always wins.
     */
    private volatile Map<String, ClientEntry> formerClients = new ConcurrentHashMap<>();
    private volatile Map<String, String[]> formerTopics = new ConcurrentHashMap<>();
    /** Keys in the store's database at the last count ({@link #countKeys()}); -1 before the first. */
    private volatile long keyCount = -1;
    /** Bumped by every invalidation: a read that overlaps one does not fill the cache with what it read. */
    private final AtomicLong invalidations = new AtomicLong();
    private final Disposable reconnects;
    private final ClientSessions sessions;
    private final Subscriptions subscriptions;
    /**
     * Told the filter whose subscribers another client of the store changed, and whether it has any now; null when
     * nobody listens.
     */
    private volatile BiConsumer<String, Boolean> subscribersChanged;
    /** Told when the store reconnected: what was cached from it may have missed changes. */
    private volatile Runnable reconnected;

    /**
     * A cached answer to "who is at this address": {@link #UNKNOWN} caches the absence too, {@link #AMBIGUOUS} a shared
     * address several clients connected from.
     */
    static final class ClientEntry {
        static final ClientEntry UNKNOWN = new ClientEntry(null);
        static final ClientEntry AMBIGUOUS = new ClientEntry(null);
        final String clientId;
        volatile long ttlRefreshedAt;

        ClientEntry(String clientId) {
            this.clientId = clientId;
        }
    }

    /**
     * A packet came from a port with no session of its own, at an address where several clients connected: which of
     * them sent it cannot be told.
     */
    public static final class AmbiguousClientException extends RuntimeException {
        AmbiguousClientException() {
            super("several clients connected from this address, none from this port", null, false, false);
        }
    }

    /**
     * @param maxCachedTopicBytes  bytes of topic names the near cache holds, as counted by {@link #heapBytes(String[])}
     * @param maxClientsPerAddress client ids that may connect from one address (0: no limit)
     */
    public SessionStore(String connectionString, Duration sessionTtl, Duration ttlRefreshInterval, long maxCachedClients,
                        long maxCachedTopicBytes, Duration cacheTtl, Duration commandTimeout, int maxTopicsPerClient,
                        int maxClientsPerAddress) {
        RedisURI uri = ValkeyUri.parse(connectionString);
        this.address = ValkeyUri.describe(uri);
        // reconnect within half a second of the store's return (Lettuce's default backs off to 30 s)
        this.resources = DefaultClientResources.builder()
                .reconnectDelay(Delay.exponential(Duration.ofMillis(10), RECONNECT_DELAY_MAX, 2, TimeUnit.MILLISECONDS))
                .build();
        ClusterClientOptions.Builder options = ClusterClientOptions.builder()
                .protocolVersion(ProtocolVersion.RESP3)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                // a Cluster's failover or resharding is learned from the redirections and reconnections it causes
                .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enableAllAdaptiveRefreshTriggers()
                        .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1)).build());
        this.sessionTtlSeconds = sessionTtl.toSeconds();
        this.ttlRefreshNanos = ttlRefreshInterval.toNanos();
        this.maxTopicsPerClient = maxTopicsPerClient;
        this.maxClientsPerAddress = maxClientsPerAddress;
        this.maxCachedClients = maxCachedClients;
        this.clients = Caffeine.newBuilder().maximumSize(maxCachedClients).expireAfterWrite(cacheTtl).build();
        this.topics = Caffeine.newBuilder().maximumWeight(maxCachedTopicBytes)
                .<String, String[]>weigher((clientId, names) -> heapBytes(names)).expireAfterWrite(cacheTtl).build();
        Connected connected = connect(connectionString, resources, options, address);
        this.client = connected.client();
        this.connection = connected.connection();
        this.redis = connected.redis();
        this.keys = connected.keys();
        this.sessions = new ClientSessions(redis, keys, sessionTtl, maxCachedClients);
        this.subscriptions = new Subscriptions(redis, keys, sessionTtl);
        if (connection instanceof StatefulRedisClusterConnection<String, String> cluster) {
            cluster.addListener((node, message) -> onPush(message));
            LOG.info("The store ({}) is a Redis Cluster of {} masters: client keys carry their bucket as a hash tag",
                    address, cluster.getPartitions().stream().filter(node -> node.is(RedisClusterNode.NodeFlag.UPSTREAM)).count());
        } else {
            ((StatefulRedisConnection<String, String>) connection).addListener(this::onPush);
        }
        List<RedisURI> sentinels = uri.getSentinels();
        Set<String> reconnecting = ConcurrentHashMap.newKeySet();
        this.reconnects = client.getResources().eventBus().get()
                .filter(event -> keys.clustered() ? clusterConnectionRenewed(event, reconnecting)
                        // the data connection's, not those that ask the sentinels where the master is (one per attempt)
                        : event instanceof ConnectionActivatedEvent activated && !isSentinel(activated.remoteAddress(), sentinels))
                .subscribe(event -> onReconnected(), e -> LOG.debug("Store event stream ended: {}", e.toString()));
        enableTracking();
    }

    /**
     * CONNECT, first step: admits the client at its address ({@code clients-at:{ip}}, the client ids seen there, at
     * most {@code maxClientsPerAddress}). How many clients the address has then, or -1, with nothing written, when it
     * already has its most.
     *
     * @param addressKey the source address without port, whichever key the clients are bound by
     */
    public CompletionStage<Long> admit(String addressKey, String clientId) {
        return admit(addressKey, clientId, maxClientsPerAddress);
    }

    private CompletionStage<Long> admit(String addressKey, String clientId, int limit) {
        return redis.eval(ADMIT_SCRIPT, ScriptOutputType.INTEGER, new String[] {CLIENTS_AT_PREFIX + addressKey},
                clientId, Long.toString(sessionTtlSeconds), Integer.toString(limit));
    }

    /**
     * CONNECT, once admitted: binds the address to the client id and, for a clean session, forgets its topics. With a
     * shared key (the Python gateway's {@code client:{ip}}) that key is written; the exact address
     * ({@code client:{ip}:{port}}) is then written only when several clients connected from there ({@code seenThere}),
     * so that a lone device whose NAT gives it a new port each time it wakes does not leave a key per port.
     */
    public CompletionStage<Void> bind(String clientKey, String sharedKey, String clientId, boolean cleanSession,
                                      long seenThere) {
        SetArgs ttl = SetArgs.Builder.ex(sessionTtlSeconds);
        CompletableFuture<?> bound;
        if (sharedKey == null) {
            bound = redis.set(CLIENT_PREFIX + clientKey, clientId, ttl).toCompletableFuture();
        } else {
            redis.set(CLIENT_PREFIX + sharedKey, clientId, ttl);
            bound = (seenThere > 1 ? redis.set(CLIENT_PREFIX + clientKey, clientId, ttl) : redis.del(CLIENT_PREFIX + clientKey))
                    .toCompletableFuture();
        }
        CompletableFuture<?> cleared = cleanSession
                ? redis.del(keys.client(TOPIC_PREFIX, clientId)).toCompletableFuture()
                : CompletableFuture.completedFuture(null);
        return CompletableFuture.allOf(bound, cleared).thenRun(() -> {
            formerClients.remove(clientKey);
            if (cleanSession) {
                formerTopics.remove(clientId);
            }
            ClientEntry entry = new ClientEntry(clientId);
            entry.ttlRefreshedAt = System.nanoTime();
            clients.put(clientKey, entry);
            if (sharedKey != null) {
                // what this connection writes is not invalidated to it (NOLOOP): the shared answer is read again
                clients.invalidate(sharedKey);
            }
            if (cleanSession) {
                topics.put(clientId, NO_TOPICS);
            } else {
                topics.invalidate(clientId);
            }
        });
    }

    /** The clients' sessions, wills, keep-alive deadlines and QoS 2 messages, on this store's connection. */
    public ClientSessions sessions() {
        return sessions;
    }

    /** The clients' subscriptions and the messages on their way down to them, on this store's connection. */
    public Subscriptions subscriptions() {
        return subscriptions;
    }

    /**
     * Listens to changes of subscriptions made through other instances: {@code changed} gets the filter whose
     * subscribers changed and whether it has any now, {@code reconnected} says that changes may have been missed.
     */
    public void watchSubscriptions(BiConsumer<String, Boolean> changed, Runnable reconnected) {
        this.subscribersChanged = changed;
        this.reconnected = reconnected;
    }

    /** The client id bound to the address, or null, when the near cache knows; does not ask the server. */
    public String cachedClientId(String clientKey) {
        ClientEntry entry = clients.getIfPresent(clientKey);
        return entry == null ? null : entry.clientId;
    }

    /** Whether the near cache has an answer (possibly "unknown") for the address. */
    public boolean isClientCached(String clientKey) {
        return clients.getIfPresent(clientKey) != null;
    }

    /**
     * The client id bound to the address, or null when none is; asks the server unless the near cache knows. An
     * address with no binding of its own takes the shared key's client only when no other client connected from the
     * shared address (a device whose NAT gave it a new port, or a session the Python gateway made); otherwise the
     * stage fails with {@link AmbiguousClientException}. The shared answer is cached under the shared key, which the
     * server's invalidations keep right: every CONNECT at that address rewrites it.
     */
    public CompletionStage<String> clientId(String clientKey, String sharedKey) {
        CompletionStage<String> known = knownClientId(clientKey, sharedKey);
        return formerClients.isEmpty() ? known
                : known.thenCompose(clientId -> clientId != null ? CompletableFuture.completedFuture(clientId)
                        : restoreClient(clientKey, sharedKey));
    }

    /**
     * The store does not know the address, but this instance served a client there before the store was emptied or
     * its connection dropped: the binding is written back as a CONNECT that keeps the session would write it.
     */
    private CompletionStage<String> restoreClient(String clientKey, String sharedKey) {
        ClientEntry former = formerClients.get(clientKey);
        if ((former == null || former.clientId == null) && sharedKey != null) {
            former = formerClients.get(sharedKey);
        }
        if (former == null || former.clientId == null) {
            return CompletableFuture.completedFuture(null);
        }
        String clientId = former.clientId;
        CompletionStage<Long> seenThere = sharedKey == null ? CompletableFuture.completedFuture(1L)
                : admit(sharedKey, clientId, 0);
        return seenThere.thenCompose(seen -> bind(clientKey, sharedKey, clientId, false, seen)).thenApply(ok -> {
            LOG.info("Client {} at {} was missing from the store: written back from this instance's memory", clientId, clientKey);
            return clientId;
        });
    }

    private CompletionStage<String> knownClientId(String clientKey, String sharedKey) {
        ClientEntry cached = clients.getIfPresent(clientKey);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached.clientId);
        }
        ClientEntry shared = sharedKey == null ? null : clients.getIfPresent(sharedKey);
        if (shared != null && shared != ClientEntry.AMBIGUOUS) {
            // one client at most connected from the address: a binding of this port could only be its own
            return CompletableFuture.completedFuture(shared.clientId);
        }
        long seen = invalidations.get();
        return redis.get(CLIENT_PREFIX + clientKey).thenCompose(clientId -> {
            if (clientId != null || sharedKey == null) {
                return CompletableFuture.completedFuture(cache(clientKey, clientId, seen));
            }
            if (shared == ClientEntry.AMBIGUOUS) {
                return CompletableFuture.failedFuture(new AmbiguousClientException());
            }
            return sharedClient(sharedKey, seen);
        });
    }

    /** The client id the shared address names when the near cache knows it is the only one; does not ask the server. */
    public String cachedSharedClientId(String sharedKey) {
        ClientEntry entry = clients.getIfPresent(sharedKey);
        return entry == null ? null : entry.clientId;
    }

    private CompletionStage<String> sharedClient(String sharedKey, long seen) {
        // O(1) whatever the number of clients behind the address: how many, and one of them
        CompletableFuture<Long> connectedCount = redis.scard(CLIENTS_AT_PREFIX + sharedKey).toCompletableFuture();
        CompletableFuture<String> oneConnected = redis.srandmember(CLIENTS_AT_PREFIX + sharedKey).toCompletableFuture();
        return redis.get(CLIENT_PREFIX + sharedKey).thenCombine(connectedCount.thenCombine(oneConnected, Seen::new),
                (clientId, connected) -> {
                    boolean ambiguous = clientId != null
                            && (connected.count() > 1 || connected.count() == 1 && !clientId.equals(connected.one()));
                    if (invalidations.get() == seen) {
                        clients.put(sharedKey, ambiguous ? ClientEntry.AMBIGUOUS
                                : clientId == null ? ClientEntry.UNKNOWN : new ClientEntry(clientId));
                    }
                    if (ambiguous) {
                        throw new AmbiguousClientException();
                    }
                    return clientId;
                });
    }

    /** The clients that connected from a shared address: how many, and one of them. */
    private record Seen(long count, String one) {
    }

    private String cache(String clientKey, String clientId, long invalidationsSeen) {
        if (invalidations.get() == invalidationsSeen) {
            clients.put(clientKey, clientId == null ? ClientEntry.UNKNOWN : new ClientEntry(clientId));
        }
        return clientId;
    }

    /** The topic name of a registered id, or null, when the near cache holds the client's topics; does not ask the server. */
    public String cachedTopicName(String clientId, int topicId) {
        String[] names = topics.getIfPresent(clientId);
        return names != null && topicId <= names.length ? names[topicId - 1] : null;
    }

    /** The topic name of a registered id, or null when the client registered no such id. */
    public CompletionStage<String> topicName(String clientId, int topicId) {
        String cached = cachedTopicName(clientId, topicId);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached);
        }
        // not cached, or registered since the cache was filled (perhaps through another instance): read the list again
        long seen = invalidations.get();
        return topicList(clientId).thenApply(list -> {
            String[] names = list.toArray(NO_TOPICS);
            if (invalidations.get() == seen) {
                topics.put(clientId, names);
            }
            return topicId <= names.length ? names[topicId - 1] : null;
        });
    }

    /**
     * The client's topic names as the store has them; when it has none but this instance held some before the store
     * was emptied, those are written back first (the ids the device was given stay its ids).
     */
    private CompletionStage<List<String>> topicList(String clientId) {
        String[] former = formerTopics.remove(clientId);
        if (former == null || former.length == 0) {
            return redis.lrange(keys.client(TOPIC_PREFIX, clientId), 0, -1);
        }
        String[] args = new String[former.length + 1];
        args[0] = Long.toString(sessionTtlSeconds);
        System.arraycopy(former, 0, args, 1, former.length);
        return redis.<List<String>>eval(RESTORE_TOPICS_SCRIPT, ScriptOutputType.MULTI, new String[] {keys.client(TOPIC_PREFIX, clientId)}, args);
    }

    /**
     * REGISTER: the id of the name for this client, registering it when new; 0 when the client has registered
     * {@code maxTopicsPerClient} names. A name registered twice keeps its first id.
     */
    public CompletionStage<Integer> register(String clientId, String topicName) {
        String key = keys.client(TOPIC_PREFIX, clientId);
        CompletionStage<?> restored = formerTopics.containsKey(clientId) ? topicList(clientId) : CompletableFuture.completedFuture(null);
        long seen = invalidations.get();
        return restored.thenCompose(ok -> redis.<Long>eval(REGISTER_SCRIPT, ScriptOutputType.INTEGER, new String[] {key},
                        topicName, Long.toString(sessionTtlSeconds), Integer.toString(maxTopicsPerClient)))
                .thenApply(id -> {
                    cacheRegistered(clientId, topicName, id.intValue(), seen);
                    return id.intValue();
                });
    }

    /**
     * Keeps the near cache's list in step with a REGISTER when it can tell the new list (the name appended to the list
     * it holds, nothing changed elsewhere meanwhile): the device's next PUBLISH, and every one while the store is
     * unreachable, needs no round trip. Otherwise the list is read again when next needed.
     */
    private void cacheRegistered(String clientId, String topicName, int id, long invalidationsSeen) {
        String[] names = topics.getIfPresent(clientId);
        if (id == 0 || names != null && id <= names.length && topicName.equals(names[id - 1])) {
            return;
        }
        if (names != null && id == names.length + 1 && invalidations.get() == invalidationsSeen) {
            String[] longer = java.util.Arrays.copyOf(names, id);
            longer[id - 1] = topicName;
            topics.put(clientId, longer);
        } else {
            topics.invalidate(clientId);
        }
    }

    /**
     * After a forwarded PUBLISH: renews the TTLs of the client, its topics and the shared address's keys, at most once
     * per refresh interval (the Python gateway renews on every PUBLISH, two round trips per reading). The interval is
     * kept on the entry that named the client: its exact address's, else its shared address's, which is only looked
     * up (and its key only made) when the exact address has no entry.
     */
    public void extendTtl(String clientKey, Supplier<String> sharedKey, String clientId) {
        ClientEntry entry = clients.getIfPresent(clientKey);
        String shared = entry == null ? sharedKey.get() : null;
        if (shared != null) {
            entry = clients.getIfPresent(shared);
        }
        long now = System.nanoTime();
        if (entry != null && entry.clientId != null && now - entry.ttlRefreshedAt < ttlRefreshNanos) {
            return;
        }
        if (entry != null && entry.clientId != null) {
            entry.ttlRefreshedAt = now;
        }
        expire(CLIENT_PREFIX + clientKey);
        shared = shared != null ? shared : sharedKey.get();
        if (shared != null) {
            expire(CLIENT_PREFIX + shared);
            expire(CLIENTS_AT_PREFIX + shared);
        }
        expire(keys.client(TOPIC_PREFIX, clientId));
        sessions.extendTtl(clientId);
    }

    private void expire(String key) {
        redis.expire(key, sessionTtlSeconds).exceptionally(e -> logFailure("EXPIRE " + key, e));
    }

    private Boolean logFailure(String what, Throwable e) {
        LOG.warn("{} failed: {}", what, e.getMessage());
        return Boolean.FALSE;
    }

    /**
     * Asks the server to report changes of the cached prefixes; on a Cluster every master, on the connection the
     * commands for its slots go through (so that NOLOOP spares this instance its own writes).
     */
    private void enableTracking() {
        TrackingArgs tracking = TrackingArgs.Builder.enabled().bcast().prefixes(CLIENT_PREFIX, TOPIC_PREFIX,
                ClientSessions.SESSION_PREFIX, Subscriptions.SUBSCRIBERS_PREFIX).noloop();
        CompletableFuture<?> enabled;
        if (connection instanceof StatefulRedisClusterConnection<String, String> cluster) {
            enabled = CompletableFuture.allOf(cluster.getPartitions().stream()
                    .filter(node -> node.is(RedisClusterNode.NodeFlag.UPSTREAM))
                    .map(node -> cluster.getConnectionAsync(node.getUri().getHost(), node.getUri().getPort())
                            .thenCompose(master -> master.async().clientTracking(tracking))
                            // the masters whose connection did not drop still track: only the others needed it
                            .exceptionally(e -> alreadyTracking(e) ? "OK" : rethrow(e)))
                    .toArray(CompletableFuture[]::new));
        } else {
            enabled = redis.clientTracking(tracking).toCompletableFuture();
        }
        enabled.whenComplete((ok, e) -> {
            if (e != null) {
                LOG.warn("The store does not track keys for this client ({}): near-cache entries may be stale for up to their TTL",
                        e.getMessage());
            }
        });
    }

    private static boolean alreadyTracking(Throwable e) {
        return String.valueOf(e.getMessage()).contains("overlaps with an existing prefix");
    }

    private static <T> T rethrow(Throwable e) {
        throw e instanceof CompletionException completion ? completion : new CompletionException(e);
    }

    /** The store's client and connection, and the key names that suit it. */
    private record Connected(AbstractRedisClient client, StatefulConnection<String, String> connection,
                             RedisClusterAsyncCommands<String, String> redis, KeyLayout keys) {
    }

    /**
     * The connection, or an error that says where and why not (a TLS certificate refused, a wrong password, …). The
     * server named is asked whether it is a Cluster node; if so, the store becomes a client of the whole Cluster.
     */
    private static Connected connect(String connectionString, ClientResources resources, ClusterClientOptions.Builder options,
                                     String address) {
        AbstractRedisClient client = ValkeyUri.client(connectionString, resources, options);
        try {
            StatefulRedisConnection<String, String> single = ((RedisClient) client).connect(StringCodec.UTF8);
            if (!ValkeyUri.isCluster(single.sync().info("cluster"))) {
                return new Connected(client, single, single.async(), KeyLayout.SINGLE_SERVER);
            }
            single.close();
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            client = ValkeyUri.clusterClient(connectionString, resources, options);
            StatefulRedisClusterConnection<String, String> cluster = ((RedisClusterClient) client).connect(StringCodec.UTF8);
            String state = cluster.sync().clusterInfo();
            if (!state.contains("cluster_state:ok")) {
                cluster.close();
                throw new IllegalStateException("The store (" + address + ") is a Redis Cluster that does not serve every"
                        + " hash slot: " + state.lines().filter(line -> line.startsWith("cluster_state:")
                                || line.startsWith("cluster_slots_assigned:") || line.startsWith("cluster_slots_ok:"))
                        .map(String::strip).collect(Collectors.joining(", ")));
            }
            return new Connected(client, cluster, cluster.async(), KeyLayout.CLUSTER);
        } catch (IllegalStateException e) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        } catch (RedisException e) {
            Throwable cause = e;
            while (cause.getCause() != null) {
                cause = cause.getCause();
            }
            // the route controller makes a new store at its next attempt: this one's threads go now
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw new RedisConnectionException("Cannot connect to the store (" + address + "): "
                    + (cause == e ? e.getMessage() : cause.getClass().getSimpleName() + ": " + cause.getMessage()), e);
        }
    }

    /**
     * On a Cluster, whether a connection to a master may have missed invalidations: one that came back (its attempts to
     * reconnect were announced), or a new layout (a replica took over a master). Not the short-lived connections with
     * which the client reads the layout, which come and go on each refresh.
     */
    private static boolean clusterConnectionRenewed(Event event, Set<String> reconnecting) {
        if (event instanceof ReconnectAttemptEvent attempt) {
            reconnecting.add(hostAndPort(attempt.remoteAddress()));
            return false;
        }
        return event instanceof ClusterTopologyChangedEvent
                || event instanceof ConnectionActivatedEvent activated && reconnecting.remove(hostAndPort(activated.remoteAddress()));
    }

    /** The same for an address resolved or not (a reconnection attempt's is not). */
    private static String hostAndPort(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet.getHostString() + ":" + inet.getPort() : String.valueOf(address);
    }

    private static boolean isSentinel(SocketAddress remote, List<RedisURI> sentinels) {
        return remote instanceof InetSocketAddress address && sentinels.stream().anyMatch(sentinel -> sentinel.getPort() == address.getPort()
                && (sentinel.getHost().equals(address.getHostString())
                    || address.getAddress() != null && sentinel.getHost().equals(address.getAddress().getHostAddress())));
    }

    private void onReconnected() {
        forgetAllRemembering();
        sessions.invalidateAll();
        enableTracking();
        Runnable listener = reconnected;
        if (listener != null) {
            listener.run();
        }
    }

    private void onPush(PushMessage message) {
        if (!"invalidate".equals(message.getType())) {
            return;
        }
        invalidations.incrementAndGet();
        List<Object> content = message.getContent(StringCodec.UTF8::decodeKey);
        Object changedKeys = content.size() > 1 ? content.get(1) : null;
        if (!(changedKeys instanceof List<?> list)) {
            // a null key list means the server flushed its tracking table (FLUSHDB): anything may have changed
            forgetAllRemembering();
            sessions.invalidateAll();
            return;
        }
        for (Object key : list) {
            String name = String.valueOf(key);
            if (name.startsWith(CLIENT_PREFIX)) {
                String clientKey = name.substring(CLIENT_PREFIX.length());
                clients.invalidate(clientKey);
                formerClients.remove(clientKey);
            } else if (name.startsWith(TOPIC_PREFIX)) {
                KeyLayout.Named client = keys.named(name.substring(TOPIC_PREFIX.length()));
                if (client != null) {
                    topics.invalidate(client.name());
                    formerTopics.remove(client.name());
                }
            } else if (name.startsWith(ClientSessions.SESSION_PREFIX)) {
                KeyLayout.Named client = keys.named(name.substring(ClientSessions.SESSION_PREFIX.length()));
                if (client != null) {
                    sessions.invalidate(client.name());
                }
            } else if (name.startsWith(Subscriptions.SUBSCRIBERS_PREFIX) && subscribersChanged != null) {
                subscriptions.subscribersChanged(name.substring(Subscriptions.SUBSCRIBERS_PREFIX.length()))
                        .whenComplete((changed, e) -> {
                            BiConsumer<String, Boolean> listener = subscribersChanged;
                            if (changed != null && listener != null) {
                                listener.accept(changed.getKey(), changed.getValue());
                            }
                        });
            }
        }
    }

    /**
     * Empties the near cache, remembering what it held (with what it remembered already, up to the cache's size) in
     * case the store lost it: see {@link #formerClients}.
     */
    private void forgetAllRemembering() {
        invalidations.incrementAndGet();
        Map<String, ClientEntry> keptClients = new ConcurrentHashMap<>();
        clients.asMap().forEach((key, entry) -> {
            if (entry.clientId != null) {
                keptClients.put(key, entry);
            }
        });
        Map<String, String[]> keptTopics = new ConcurrentHashMap<>(topics.asMap());
        formerClients.forEach((key, entry) -> {
            if (keptClients.size() < maxCachedClients) {
                keptClients.putIfAbsent(key, entry);
            }
        });
        formerTopics.forEach((key, names) -> {
            if (keptTopics.size() < maxCachedClients) {
                keptTopics.putIfAbsent(key, names);
            }
        });
        // remembered before the cache is emptied: a packet handled meanwhile finds its client in one or the other
        formerClients = keptClients;
        formerTopics = keptTopics;
        clients.invalidateAll();
        topics.invalidateAll();
    }

    /** Counts the keys in the store's database (DBSIZE, O(1)), for {@link #keyCount()}; failures leave the last count. */
    public void countKeys() {
        redis.dbsize().thenAccept(count -> keyCount = count);
    }

    /** Keys in the store's database at the last {@link #countKeys()}, or -1 before one answered. */
    public long keyCount() {
        return keyCount;
    }

    /** Bytes the heap holds for a list of topic names: the array, and each string with its content (Latin-1 or UTF-16). */
    static int heapBytes(String[] names) {
        long bytes = 16 + 4L * names.length;
        for (String name : names) {
            bytes += 24 + 16 + 2L * name.length();
        }
        return (int) Math.min(Integer.MAX_VALUE, bytes);
    }

    /**
     * Why the store cannot be asked now, or null while it is connected. A Cluster's connection stays open while its
     * masters come and go: it is unavailable when no master answered the last keep-alive check (one a second), and
     * available while one master fails over, since the devices of the others are served.
     */
    public String unavailability() {
        if (keys.clustered()) {
            String unanswered = sessions.unanswered();
            return unanswered == null ? null : "no master of the Redis Cluster at " + address + " answers (" + unanswered
                    + "); clients in the near cache are still served";
        }
        return connection.isOpen() ? null
                : "the store at " + address + " is not connected (reconnecting); clients in the near cache are still served";
    }

    @Override
    public void close() {
        reconnects.dispose();
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
