package org.iotgateway.mqttsn.store;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.protocol.ProtocolVersion;
import org.slf4j.Logger;
import reactor.core.Disposable;
import org.slf4j.LoggerFactory;

/**
 * Clients and their registered topics in Redis/Valkey, in the Python gateway's layout so that both gateways can share
 * one store: {@code client:{address}} holds the client id (a string with a TTL), {@code topic:{clientId}} the list of
 * topic names, where a name's 1-based position is its topic id.
 * <p>
 * A session is bound to the exact address it connected from, {@code client:{ip}:{port}}. Unless clients are keyed by
 * ip:port, CONNECT also writes the Python gateway's {@code client:{ip}} and adds the client to
 * {@code clients-at:{ip}}, the set of clients seen at that address: a packet from a port with no binding is the shared
 * key's client only when no other client connected from that address, and is never attributed to another device.
 * <p>
 * Reads go through a bounded near cache. It stays correct with several gateway instances (and the Python gateway)
 * writing to the same store because the connection asks the server to track the {@code client:} and {@code topic:}
 * prefixes (CLIENT TRACKING BCAST NOLOOP): every change another client makes, and every expiry, arrives as an
 * invalidation and evicts the entry. When the connection drops, invalidations may have been missed, so the whole cache
 * is cleared on reconnect. Should the server not support tracking (Redis before 6), entries live at most
 * {@code cacheTtl}.
 */
public final class SessionStore implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SessionStore.class);

    static final String CLIENT_PREFIX = "client:";
    static final String TOPIC_PREFIX = "topic:";
    /** The set of client ids that connected from a shared address: more than one makes that address ambiguous. */
    static final String CLIENTS_AT_PREFIX = "clients-at:";
    private static final String[] NO_TOPICS = new String[0];

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

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final String address;
    private final RedisAsyncCommands<String, String> redis;
    private final long sessionTtlSeconds;
    private final long ttlRefreshNanos;
    private final int maxTopicsPerClient;
    private final Cache<String, ClientEntry> clients;
    private final Cache<String, String[]> topics;
    /** Bumped by every invalidation: a read that overlaps one does not fill the cache with what it read. */
    private final AtomicLong invalidations = new AtomicLong();
    private final Disposable reconnects;

    /** A cached answer to "who is at this address": {@link #UNKNOWN} caches the absence too. */
    static final class ClientEntry {
        static final ClientEntry UNKNOWN = new ClientEntry(null);
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
        AmbiguousClientException(long clients) {
            super(clients + " clients connected from this address, none from this port", null, false, false);
        }
    }

    public SessionStore(String connectionString, Duration sessionTtl, Duration ttlRefreshInterval,
                        long maxCachedClients, Duration cacheTtl, Duration commandTimeout, int maxTopicsPerClient) {
        RedisURI uri = ValkeyUri.parse(connectionString);
        this.address = uri.getHost() + ":" + uri.getPort();
        this.client = RedisClient.create(uri);
        client.setOptions(ClientOptions.builder()
                .protocolVersion(ProtocolVersion.RESP3)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
                .build());
        this.sessionTtlSeconds = sessionTtl.toSeconds();
        this.ttlRefreshNanos = ttlRefreshInterval.toNanos();
        this.maxTopicsPerClient = maxTopicsPerClient;
        this.clients = Caffeine.newBuilder().maximumSize(maxCachedClients).expireAfterWrite(cacheTtl).build();
        this.topics = Caffeine.newBuilder().maximumSize(maxCachedClients).expireAfterWrite(cacheTtl).build();
        this.connection = client.connect(StringCodec.UTF8, uri);
        this.redis = connection.async();
        connection.addListener(this::onPush);
        this.reconnects = client.getResources().eventBus().get()
                .filter(ConnectionActivatedEvent.class::isInstance)
                .subscribe(event -> onReconnected(), e -> LOG.debug("Store event stream ended: {}", e.toString()));
        enableTracking();
    }

    /**
     * CONNECT: binds the address to the client id and, for a clean session, forgets its topics. With a shared key
     * (the Python gateway's {@code client:{ip}}) it is written too, and the client joins the ones seen at that address.
     */
    public CompletionStage<Void> connect(String clientKey, String sharedKey, String clientId, boolean cleanSession) {
        SetArgs ttl = SetArgs.Builder.ex(sessionTtlSeconds);
        List<CompletableFuture<?>> writes = new ArrayList<>(5);
        writes.add(redis.set(CLIENT_PREFIX + clientKey, clientId, ttl).toCompletableFuture());
        if (sharedKey != null) {
            writes.add(redis.set(CLIENT_PREFIX + sharedKey, clientId, ttl).toCompletableFuture());
            writes.add(redis.sadd(CLIENTS_AT_PREFIX + sharedKey, clientId).toCompletableFuture());
            writes.add(redis.expire(CLIENTS_AT_PREFIX + sharedKey, sessionTtlSeconds).toCompletableFuture());
        }
        if (cleanSession) {
            writes.add(redis.del(TOPIC_PREFIX + clientId).toCompletableFuture());
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).thenRun(() -> {
            ClientEntry entry = new ClientEntry(clientId);
            entry.ttlRefreshedAt = System.nanoTime();
            clients.put(clientKey, entry);
            if (cleanSession) {
                topics.put(clientId, NO_TOPICS);
            } else {
                topics.invalidate(clientId);
            }
        });
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
     * shared address (a device whose NAT gave it a new port, or a session the Python gateway made), and is bound to it
     * from then on; otherwise the stage fails with {@link AmbiguousClientException}.
     */
    public CompletionStage<String> clientId(String clientKey, String sharedKey) {
        ClientEntry cached = clients.getIfPresent(clientKey);
        if (cached != null) {
            return CompletableFuture.completedFuture(cached.clientId);
        }
        long seen = invalidations.get();
        return redis.get(CLIENT_PREFIX + clientKey).thenCompose(clientId -> clientId != null || sharedKey == null
                ? CompletableFuture.completedFuture(cache(clientKey, clientId, seen))
                : sharedClient(clientKey, sharedKey, seen));
    }

    private CompletionStage<String> sharedClient(String clientKey, String sharedKey, long seen) {
        // O(1) whatever the number of clients behind the address: how many, and one of them
        CompletableFuture<Long> connectedCount = redis.scard(CLIENTS_AT_PREFIX + sharedKey).toCompletableFuture();
        CompletableFuture<String> oneConnected = redis.srandmember(CLIENTS_AT_PREFIX + sharedKey).toCompletableFuture();
        return redis.get(CLIENT_PREFIX + sharedKey).thenCombine(connectedCount.thenCombine(oneConnected, Seen::new),
                (clientId, connected) -> {
                    if (clientId != null) {
                        if (connected.count() > 1 || connected.count() == 1 && !clientId.equals(connected.one())) {
                            throw new AmbiguousClientException(connected.count() == 1 ? 2 : connected.count());
                        }
                        redis.set(CLIENT_PREFIX + clientKey, clientId, SetArgs.Builder.ex(sessionTtlSeconds))
                                .whenComplete((ok, e) -> {
                                    if (e != null) {
                                        logFailure("SET client", e);
                                    }
                                });
                    }
                    return cache(clientKey, clientId, seen);
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
        return redis.lrange(TOPIC_PREFIX + clientId, 0, -1).thenApply(list -> {
            String[] names = list.toArray(NO_TOPICS);
            if (invalidations.get() == seen) {
                topics.put(clientId, names);
            }
            return topicId <= names.length ? names[topicId - 1] : null;
        });
    }

    /**
     * REGISTER: the id of the name for this client, registering it when new; 0 when the client has used up the ids.
     * A name registered twice keeps its first id.
     */
    public CompletionStage<Integer> register(String clientId, String topicName) {
        String key = TOPIC_PREFIX + clientId;
        return redis.<Long>eval(REGISTER_SCRIPT, ScriptOutputType.INTEGER, new String[] {key},
                        topicName, Long.toString(sessionTtlSeconds), Integer.toString(maxTopicsPerClient))
                .thenApply(id -> {
                    topics.invalidate(clientId);
                    return id.intValue();
                });
    }

    /**
     * After a forwarded PUBLISH: renews the TTLs of the client, its topics and the shared address's keys, at most once
     * per refresh interval (the Python gateway renews on every PUBLISH, two round trips per reading).
     */
    public void extendTtl(String clientKey, String sharedKey, String clientId) {
        ClientEntry entry = clients.getIfPresent(clientKey);
        long now = System.nanoTime();
        if (entry != null && entry.clientId != null && now - entry.ttlRefreshedAt < ttlRefreshNanos) {
            return;
        }
        if (entry != null) {
            entry.ttlRefreshedAt = now;
        }
        expire(CLIENT_PREFIX + clientKey);
        if (sharedKey != null) {
            expire(CLIENT_PREFIX + sharedKey);
            expire(CLIENTS_AT_PREFIX + sharedKey);
        }
        expire(TOPIC_PREFIX + clientId);
    }

    private void expire(String key) {
        redis.expire(key, sessionTtlSeconds).exceptionally(e -> logFailure("EXPIRE " + key, e));
    }

    private Boolean logFailure(String what, Throwable e) {
        LOG.warn("{} failed: {}", what, e.getMessage());
        return Boolean.FALSE;
    }

    private void enableTracking() {
        redis.clientTracking(TrackingArgs.Builder.enabled().bcast().prefixes(CLIENT_PREFIX, TOPIC_PREFIX).noloop())
                .whenComplete((ok, e) -> {
                    if (e != null) {
                        LOG.warn("The store does not track keys for this client ({}): near-cache entries may be stale for up to their TTL",
                                e.getMessage());
                    }
                });
    }

    private void onReconnected() {
        invalidations.incrementAndGet();
        clients.invalidateAll();
        topics.invalidateAll();
        enableTracking();
    }

    private void onPush(PushMessage message) {
        if (!"invalidate".equals(message.getType())) {
            return;
        }
        invalidations.incrementAndGet();
        List<Object> content = message.getContent(StringCodec.UTF8::decodeKey);
        Object keys = content.size() > 1 ? content.get(1) : null;
        if (!(keys instanceof List<?> list)) {
            // a null key list means the server flushed its tracking table: anything may have changed
            clients.invalidateAll();
            topics.invalidateAll();
            return;
        }
        for (Object key : list) {
            String name = String.valueOf(key);
            if (name.startsWith(CLIENT_PREFIX)) {
                clients.invalidate(name.substring(CLIENT_PREFIX.length()));
            } else if (name.startsWith(TOPIC_PREFIX)) {
                topics.invalidate(name.substring(TOPIC_PREFIX.length()));
            }
        }
    }

    /** Why the store cannot be asked now, or null while it is connected. */
    public String unavailability() {
        return connection.isOpen() ? null
                : "the store at " + address + " is not connected (reconnecting); clients in the near cache are still served";
    }

    @Override
    public void close() {
        reconnects.dispose();
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
