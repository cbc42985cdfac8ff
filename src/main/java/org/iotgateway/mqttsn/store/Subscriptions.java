package org.iotgateway.mqttsn.store;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ZAddArgs;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;

/**
 * Subscriptions and the messages on their way down to devices, all in the store so that any instance delivers to any
 * device and takes its acknowledgements:
 * <ul>
 *   <li>{@code subs:{clientId}}, a hash: topic filter → granted QoS;</li>
 *   <li>{@code subscribers:{filter}}, a hash: client id → granted QoS, the index a downlink message is matched with
 *   (every instance keeps the set of filters in memory, kept right by the server's invalidations of this prefix);</li>
 *   <li>{@code inflight:{clientId}}, a hash: message id → a QoS 1 or 2 message sent and not yet acknowledged (PUBACK,
 *   or PUBREC then PUBCOMP);</li>
 *   <li>{@code sleepq:{clientId}}, a list: the messages kept for a sleeping client, oldest first, bounded;</li>
 *   <li>{@code downlink-ids:{clientId}}: the counter the message ids of its downlink come from;</li>
 *   <li>{@code mqttsn:retries}, a sorted set: {@code msgId:clientId} of each message in flight scored by the epoch
 *   milliseconds of its next attempt, claimed by one instance at a time.</li>
 * </ul>
 * A message is a record {@code attempts|qos|retain|topicIdType|topicId|payload base64|topic}: the topic last, as
 * it is the one field that may hold the separator. A record kept for a sleeping client has its topic id resolved when
 * the client wakes ({@code topicId} 0 for a normal topic).
 * <p>
 * The names are those on one server; on a Redis Cluster they carry the client's bucket ({@link KeyLayout}), the index
 * {@code subscribers:{bucket}:{filter}} holds the bucket's clients only, and each bucket has its own retries.
 */
public final class Subscriptions {

    static final String SUBS_PREFIX = "subs:";
    static final String SUBSCRIBERS_PREFIX = "subscribers:";
    static final String INFLIGHT_PREFIX = "inflight:";
    static final String SLEEP_PREFIX = "sleepq:";
    static final String IDS_PREFIX = "downlink-ids:";
    static final String RETRIES = "mqttsn:retries";

    /** The topic id of a normal topic for the client: its position in topic:{clientId}, appended when new. */
    private static final String RESOLVE_FUNCTION = """
            local function resolve(topics, topic, maxTopics, ttl)
              local position = redis.call('LPOS', topics, topic)
              if position then return position + 1, 0 end
              if redis.call('LLEN', topics) >= maxTopics then return 0, 0 end
              local id = redis.call('RPUSH', topics, topic)
              redis.call('EXPIRE', topics, ttl)
              return id, 1
            end
            local function track(inflight, ids, retries, record, retryAt, clientId, ttl)
              local msgId = redis.call('INCR', ids) % 65535 + 1
              redis.call('EXPIRE', ids, ttl)
              redis.call('HSET', inflight, msgId, record)
              redis.call('EXPIRE', inflight, ttl)
              redis.call('ZADD', retries, retryAt, msgId .. ':' .. clientId)
              return msgId
            end
            """;

    /**
     * One message for the subscribers of the matched filters, in one call: each subscriber gets it at the lower of the
     * message's QoS and the highest it was granted among those filters; kept when it sleeps, tracked and to be sent
     * when it is active, else not delivered. Returns flat (client id, outcome, address, topic id, fresh, msg id, qos)
     * tuples, outcome being send, buffered or the client's state.
     */
    private static final String DELIVER_SCRIPT = RESOLVE_FUNCTION + """
            local qos, retain, topicIdType = tonumber(ARGV[2]), ARGV[3], ARGV[4]
            local maxTopics, ttl, maxKept = tonumber(ARGV[8]), ARGV[9], tonumber(ARGV[10])
            local tag = ARGV[#ARGV]
            local granted = {}
            for i = 12, 11 + tonumber(ARGV[11]) do
              local subscribers = redis.call('HGETALL', 'subscribers:' .. tag .. ARGV[i])
              for j = 1, #subscribers, 2 do
                local clientId, q = subscribers[j], tonumber(subscribers[j + 1])
                if not granted[clientId] or granted[clientId] < q then granted[clientId] = q end
              end
            end
            local out = {}
            for clientId, q in pairs(granted) do
              local effective = math.min(qos, q)
              local s = redis.call('HMGET', 'session:' .. tag .. clientId, 'state', 'address')
              local topicId, fresh, msgId, outcome, address = tonumber(ARGV[5]), 0, 0, s[1] or 'unknown', ''
              local tail = '|' .. effective .. '|' .. retain .. '|' .. topicIdType .. '|'
              if s[1] == 'asleep' then
                local kept = 'sleepq:' .. tag .. clientId
                redis.call('RPUSH', kept, '1' .. tail .. topicId .. '|' .. ARGV[6] .. '|' .. ARGV[1])
                redis.call('LTRIM', kept, -maxKept, -1)
                redis.call('EXPIRE', kept, ttl)
                outcome = 'buffered'
              elseif s[1] == 'active' and s[2] then
                if topicIdType == '0' then
                  topicId, fresh = resolve('topic:' .. tag .. clientId, ARGV[1], maxTopics, ttl)
                end
                if topicId == 0 then
                  outcome = 'no topic id left'
                else
                  outcome, address = 'send', s[2]
                  if effective > 0 then
                    msgId = track('inflight:' .. tag .. clientId, 'downlink-ids:' .. tag .. clientId, KEYS[1],
                        '1' .. tail .. topicId .. '|' .. ARGV[6] .. '|' .. ARGV[1], ARGV[7], clientId, ttl)
                  end
                end
              end
              out[#out + 1] = clientId; out[#out + 1] = outcome; out[#out + 1] = address
              out[#out + 1] = tostring(topicId); out[#out + 1] = tostring(fresh); out[#out + 1] = tostring(msgId)
              out[#out + 1] = tostring(effective)
            end
            return out
            """;

    /**
     * A sleeping client woke: its kept messages, each with its topic id resolved and, for QoS 1, a message id in flight;
     * returns flat (record, fresh, msgId) triples, the record's topic id filled in.
     */
    private static final String WAKE_SCRIPT = RESOLVE_FUNCTION + """
            if redis.call('HGET', KEYS[1], 'state') ~= 'asleep' then return {} end
            redis.call('HSET', KEYS[1], 'address', ARGV[1])
            local kept = redis.call('LRANGE', KEYS[4], 0, -1)
            redis.call('DEL', KEYS[4])
            local out = {}
            for _, record in ipairs(kept) do
              local attempts, qos, retain, topicIdType, topicId, payload, topic =
                  string.match(record, '^(%d+)|(%d)|(%d)|(%d)|(%d+)|([^|]*)|(.*)$')
              local fresh = 0
              if topicIdType == '0' then
                topicId, fresh = resolve(KEYS[2], topic, tonumber(ARGV[3]), ARGV[4])
              end
              if tonumber(topicId) > 0 then
                local rebuilt = '1|' .. qos .. '|' .. retain .. '|' .. topicIdType .. '|' .. topicId .. '|' .. payload .. '|' .. topic
                local msgId = 0
                if tonumber(qos) > 0 then
                  msgId = track(KEYS[3], KEYS[5], KEYS[6], rebuilt, ARGV[2], ARGV[5], ARGV[4])
                end
                out[#out + 1] = rebuilt
                out[#out + 1] = tostring(fresh)
                out[#out + 1] = tostring(msgId)
              end
            end
            return out
            """;

    /**
     * Claims the messages due for another attempt: returns flat (send or drop, client id, message id, record, address)
     * tuples. A client gone to sleep gets its message back in its buffer; one gone away, or out of attempts, loses it.
     */
    private static final String CLAIM_RETRIES_SCRIPT = """
            local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
            local tag = ARGV[6]
            local out = {}
            for _, member in ipairs(due) do
              local msgId, clientId = string.match(member, '^(%d+):(.*)$')
              local inflight = 'inflight:' .. tag .. clientId
              local record = redis.call('HGET', inflight, msgId)
              if not record then
                redis.call('ZREM', KEYS[1], member)
              else
                local s = redis.call('HMGET', 'session:' .. tag .. clientId, 'state', 'address')
                local attempts = tonumber(string.match(record, '^(%d+)|'))
                local released = string.match(record, '^%d+|R|') ~= nil
                if s[1] == 'asleep' and not released then
                  redis.call('RPUSH', 'sleepq:' .. tag .. clientId, record)
                  redis.call('LTRIM', 'sleepq:' .. tag .. clientId, -tonumber(ARGV[5]), -1)
                  redis.call('HDEL', inflight, msgId)
                  redis.call('ZREM', KEYS[1], member)
                elseif s[1] ~= 'active' or not s[2] or attempts >= tonumber(ARGV[3]) then
                  redis.call('HDEL', inflight, msgId)
                  redis.call('ZREM', KEYS[1], member)
                  out[#out + 1] = 'drop'; out[#out + 1] = clientId; out[#out + 1] = msgId
                  out[#out + 1] = record; out[#out + 1] = s[1] or 'unknown'
                else
                  record = (attempts + 1) .. string.sub(record, #tostring(attempts) + 1)
                  redis.call('HSET', inflight, msgId, record)
                  redis.call('ZADD', KEYS[1], ARGV[2], member)
                  out[#out + 1] = 'send'; out[#out + 1] = clientId; out[#out + 1] = msgId
                  out[#out + 1] = record; out[#out + 1] = s[2]
                end
              end
            end
            return out
            """;

    /**
     * PUBREC from the client for a QoS 2 message of ours: the message is marked released (qos field R), so that the
     * next attempts send PUBREL instead of the PUBLISH, until PUBCOMP. Returns 1 when the message was in flight.
     */
    private static final String RELEASE_SCRIPT = """
            local record = redis.call('HGET', KEYS[1], ARGV[1])
            if not record then return 0 end
            local released = string.gsub(record, '^(%d+)|2|', '%1|R|', 1)
            redis.call('HSET', KEYS[1], ARGV[1], released)
            redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1] .. ':' .. ARGV[3])
            return 1
            """;

    /** Subscribes; returns 1 when the filter had no subscriber before. */
    private static final String SUBSCRIBE_SCRIPT = """
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            redis.call('EXPIRE', KEYS[1], ARGV[3])
            local added = redis.call('HSET', KEYS[2], ARGV[4], ARGV[2])
            return redis.call('HLEN', KEYS[2]) == 1 and added == 1 and 1 or 0
            """;

    /** Unsubscribes; returns 1 when the filter has no subscriber left. */
    private static final String UNSUBSCRIBE_SCRIPT = """
            redis.call('HDEL', KEYS[1], ARGV[1])
            local removed = redis.call('HDEL', KEYS[2], ARGV[2])
            return removed == 1 and redis.call('EXISTS', KEYS[2]) == 0 and 1 or 0
            """;

    /** A clean session: every subscription and kept message of the client gone; returns the filters left with none. */
    private static final String CLEAR_SCRIPT = """
            local emptied = {}
            for _, filter in ipairs(redis.call('HKEYS', KEYS[1])) do
              redis.call('HDEL', 'subscribers:' .. ARGV[2] .. filter, ARGV[1])
              if redis.call('EXISTS', 'subscribers:' .. ARGV[2] .. filter) == 0 then emptied[#emptied + 1] = filter end
            end
            redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
            return emptied
            """;

    private final RedisClusterAsyncCommands<String, String> redis;
    private final KeyLayout keys;
    private final long sessionTtlSeconds;
    /**
     * On a Cluster, the buckets with subscribers of each filter, as this instance last learned them (the scan at start,
     * its own subscriptions, the store's invalidations): a downlink message runs the delivery script in those buckets
     * only. Each value is replaced, never changed, so that a reader needs no lock.
     */
    private final Map<String, BitSet> bucketsByFilter = new ConcurrentHashMap<>();

    /**
     * A message for one client as the store keeps it; {@code released}: a QoS 2 message the client answered with
     * PUBREC, which now waits for its PUBCOMP (the qos field is R).
     */
    public record Record(int attempts, int qos, boolean released, boolean retain, int topicIdType, int topicId, byte[] payload,
                         String topic) {

        static Record parse(String record) {
            String[] fields = record.split("\\|", 7);
            boolean released = fields[1].equals("R");
            return new Record(Integer.parseInt(fields[0]), released ? 2 : Integer.parseInt(fields[1]), released,
                    fields[2].equals("1"), Integer.parseInt(fields[3]), Integer.parseInt(fields[4]),
                    Base64.getDecoder().decode(fields[5]), fields[6]);
        }
    }

    /** What became of a message for one subscriber: {@code outcome} send, buffered, or why it was not delivered. */
    public record Delivery(String clientId, String outcome, String address, int topicId, boolean newTopicId, int msgId,
                           int qos) {
        public boolean send() {
            return outcome.equals("send");
        }

        public boolean kept() {
            return outcome.equals("buffered");
        }
    }

    /** A kept message to send to a client that woke: REGISTER first when the topic id is new to it. */
    public record Woken(Record record, boolean newTopicId, int msgId) {
    }

    /** A message due for another attempt (or dropped: out of attempts, client gone). */
    public record Retry(boolean send, String clientId, int msgId, Record record, String addressOrState) {
    }

    Subscriptions(RedisClusterAsyncCommands<String, String> redis, KeyLayout keys, Duration sessionTtl) {
        this.redis = redis;
        this.keys = keys;
        this.sessionTtlSeconds = sessionTtl.toSeconds();
    }

    /** SUBSCRIBE: true when the filter had no subscriber before (on a Cluster: in the client's bucket), to bind it. */
    public CompletionStage<Boolean> subscribe(String clientId, String filter, int qos) {
        int bucket = keys.bucket(clientId);
        return redis.<Long>eval(SUBSCRIBE_SCRIPT, ScriptOutputType.INTEGER,
                        new String[] {keys.client(SUBS_PREFIX, clientId), keys.subscribers(bucket, filter)},
                        filter, Integer.toString(qos), Long.toString(sessionTtlSeconds), clientId)
                .thenApply(first -> {
                    bucketSubscribed(filter, bucket, true);
                    return first == 1;
                });
    }

    /** UNSUBSCRIBE: true when the filter has no subscriber left (the broker binding may go). */
    public CompletionStage<Boolean> unsubscribe(String clientId, String filter) {
        int bucket = keys.bucket(clientId);
        return redis.<Long>eval(UNSUBSCRIBE_SCRIPT, ScriptOutputType.INTEGER,
                        new String[] {keys.client(SUBS_PREFIX, clientId), keys.subscribers(bucket, filter)}, filter, clientId)
                .thenCompose(emptied -> {
                    if (emptied == 0) {
                        return CompletableFuture.completedFuture(false);
                    }
                    bucketSubscribed(filter, bucket, false);
                    return keys.clustered() ? hasSubscribers(filter).thenApply(any -> !any) : CompletableFuture.completedFuture(true);
                });
    }

    /** A clean session: the client's subscriptions and kept messages are gone; returns the filters left with none. */
    public CompletionStage<List<String>> clear(String clientId) {
        int bucket = keys.bucket(clientId);
        return redis.<List<Object>>eval(CLEAR_SCRIPT, ScriptOutputType.MULTI,
                        new String[] {keys.client(SUBS_PREFIX, clientId), keys.client(INFLIGHT_PREFIX, clientId),
                                keys.client(SLEEP_PREFIX, clientId)}, clientId, keys.tag(bucket))
                .thenCompose(flat -> {
                    List<String> emptiedHere = flat.stream().map(String::valueOf).toList();
                    emptiedHere.forEach(filter -> bucketSubscribed(filter, bucket, false));
                    if (!keys.clustered()) {
                        return CompletableFuture.completedFuture(emptiedHere);
                    }
                    List<CompletableFuture<Boolean>> elsewhere = emptiedHere.stream()
                            .map(filter -> hasSubscribers(filter).toCompletableFuture()).toList();
                    return CompletableFuture.allOf(elsewhere.toArray(CompletableFuture[]::new)).thenApply(done -> {
                        List<String> emptied = new ArrayList<>();
                        for (int i = 0; i < emptiedHere.size(); i++) {
                            if (!elsewhere.get(i).join()) {
                                emptied.add(emptiedHere.get(i));
                            }
                        }
                        return emptied;
                    });
                });
    }

    /**
     * Whether any client still subscribes to the filter, asking the store (after a broker unbinding, to undo it if one
     * did meanwhile). On a Cluster every bucket is asked: the answer decides the broker binding all instances share.
     */
    public CompletionStage<Boolean> hasSubscribers(String filter) {
        String[] indexes = new String[keys.buckets()];
        for (int bucket = 0; bucket < indexes.length; bucket++) {
            indexes[bucket] = keys.subscribers(bucket, filter);
        }
        return redis.exists(indexes).thenApply(count -> count > 0);
    }

    /**
     * Another client of the store changed a filter's subscribers ({@code afterPrefix}: the key without
     * {@code subscribers:}): the filter, and whether it has subscribers now as far as this instance knows; null for a
     * key of the other layout.
     */
    CompletionStage<Map.Entry<String, Boolean>> subscribersChanged(String afterPrefix) {
        KeyLayout.Named changed = keys.named(afterPrefix);
        if (changed == null) {
            return CompletableFuture.completedFuture(null);
        }
        return redis.exists(keys.subscribers(changed.bucket(), changed.name())).thenApply(count ->
                Map.entry(changed.name(), bucketSubscribed(changed.name(), changed.bucket(), count > 0)));
    }

    /** Notes that a bucket has subscribers of the filter, or none; returns whether any bucket has. */
    private boolean bucketSubscribed(String filter, int bucket, boolean subscribed) {
        if (!keys.clustered()) {
            return subscribed;
        }
        BitSet now = bucketsByFilter.compute(filter, (f, buckets) -> {
            BitSet next = buckets == null ? new BitSet(keys.buckets()) : (BitSet) buckets.clone();
            next.set(bucket, subscribed);
            return next.isEmpty() ? null : next;
        });
        return now != null;
    }

    /** Every filter with a subscriber, streamed in batches (at start and after the store reconnects). */
    public CompletionStage<Void> allFilters(Consumer<String> each) {
        Map<String, BitSet> found = new ConcurrentHashMap<>();
        return scan(ScanCursor.INITIAL, afterPrefix -> {
            KeyLayout.Named index = keys.named(afterPrefix);
            if (index != null) {
                found.computeIfAbsent(index.name(), filter -> new BitSet(keys.buckets())).set(index.bucket());
                each.accept(index.name());
            }
        }).thenRun(() -> {
            if (keys.clustered()) {
                bucketsByFilter.keySet().retainAll(found.keySet());
                bucketsByFilter.putAll(found);
            }
        });
    }

    /**
     * Each page is asked for from a thread of the common pool, never from the store client's own: on a Cluster, Lettuce
     * opens the connection to the next master's node synchronously inside SCAN, which would wait forever on the thread
     * that has to open it.
     */
    private CompletionStage<Void> scan(ScanCursor cursor, Consumer<String> each) {
        return CompletableFuture.supplyAsync(() -> redis.scan(cursor, ScanArgs.Builder.matches(SUBSCRIBERS_PREFIX + "*").limit(1000)))
                .thenCompose(page -> page)
                .thenCompose((KeyScanCursor<String> page) -> {
                    page.getKeys().forEach(key -> each.accept(key.substring(SUBSCRIBERS_PREFIX.length())));
                    return page.isFinished() ? CompletableFuture.completedFuture(null) : scan(page, each);
                });
    }

    /**
     * A message for the subscribers of these filters, in one round trip (on a Cluster, one per bucket with subscribers
     * of them, in parallel): kept for those asleep, tracked for retries (QoS 1) and to be sent for those active.
     * {@code topicIdType} normal (0) has its id resolved or registered per client here; short (2) and predefined (1)
     * come with it.
     */
    public CompletionStage<List<Delivery>> deliver(List<String> filters, String topic, int topicIdType, int topicId, int qos,
                                                   boolean retain, byte[] payload, long retryAt, int maxTopics, int maxKept) {
        String[] args = new String[12 + filters.size()];
        args[0] = topic;
        args[1] = Integer.toString(qos);
        args[2] = retain ? "1" : "0";
        args[3] = Integer.toString(topicIdType);
        args[4] = Integer.toString(topicId);
        args[5] = Base64.getEncoder().encodeToString(payload);
        args[6] = Long.toString(retryAt);
        args[7] = Integer.toString(maxTopics);
        args[8] = Long.toString(sessionTtlSeconds);
        args[9] = Integer.toString(maxKept);
        args[10] = Integer.toString(filters.size());
        for (int i = 0; i < filters.size(); i++) {
            args[11 + i] = filters.get(i);
        }
        // on a Cluster, a bucket whose master is failing over is tried again for 5 s: the others are not delivered twice
        return KeyLayout.<Delivery>inBuckets("downlink delivery on " + topic, bucketsOf(filters).stream(),
                keys.clustered() ? 6 : 1, bucket -> {
            String[] bucketArgs = args.clone();
            bucketArgs[args.length - 1] = keys.tag(bucket);
            return redis.eval(DELIVER_SCRIPT, ScriptOutputType.MULTI, new String[] {keys.ofBucket(RETRIES, bucket)}, bucketArgs);
        }, (flat, deliveries) -> {
            for (int i = 0; i + 6 < flat.size(); i += 7) {
                deliveries.add(new Delivery(String.valueOf(flat.get(i)), String.valueOf(flat.get(i + 1)),
                        String.valueOf(flat.get(i + 2)), Integer.parseInt(String.valueOf(flat.get(i + 3))),
                        "1".equals(String.valueOf(flat.get(i + 4))), Integer.parseInt(String.valueOf(flat.get(i + 5))),
                        Integer.parseInt(String.valueOf(flat.get(i + 6)))));
            }
        });
    }

    /** The buckets to deliver to for these filters: the only one on one server. */
    private BitSet bucketsOf(List<String> filters) {
        BitSet buckets = new BitSet(keys.buckets());
        if (!keys.clustered()) {
            buckets.set(0);
            return buckets;
        }
        for (String filter : filters) {
            BitSet of = bucketsByFilter.get(filter);
            if (of != null) {
                buckets.or(of);
            }
        }
        return buckets;
    }

    /** A sleeping client woke (PINGREQ with its id) at this address: the messages kept for it, in order. */
    public CompletionStage<List<Woken>> wake(String clientId, String address, long retryAt, int maxTopics) {
        String[] wakeKeys = {keys.client(ClientSessions.SESSION_PREFIX, clientId), keys.client(SessionStore.TOPIC_PREFIX, clientId),
                keys.client(INFLIGHT_PREFIX, clientId), keys.client(SLEEP_PREFIX, clientId), keys.client(IDS_PREFIX, clientId),
                keys.ofClientsBucket(RETRIES, clientId)};
        return redis.<List<Object>>eval(WAKE_SCRIPT, ScriptOutputType.MULTI, wakeKeys,
                        address, Long.toString(retryAt), Integer.toString(maxTopics), Long.toString(sessionTtlSeconds), clientId)
                .thenApply(flat -> {
                    List<Woken> woken = new ArrayList<>(flat.size() / 3);
                    for (int i = 0; i + 2 < flat.size(); i += 3) {
                        woken.add(new Woken(Record.parse(String.valueOf(flat.get(i))),
                                "1".equals(String.valueOf(flat.get(i + 1))), Integer.parseInt(String.valueOf(flat.get(i + 2)))));
                    }
                    return woken;
                });
    }

    /** PUBACK, or PUBCOMP, from the client: the message is delivered (or refused for good), nothing more to retry. */
    public CompletionStage<Void> acknowledged(String clientId, int msgId) {
        redis.zrem(keys.ofClientsBucket(RETRIES, clientId), msgId + ":" + clientId);
        return redis.hdel(keys.client(INFLIGHT_PREFIX, clientId), Integer.toString(msgId)).toCompletableFuture().thenApply(x -> null);
    }

    /** PUBREC from the client: its QoS 2 message is received; PUBREL follows, and is what a retry sends from now on. */
    public CompletionStage<Boolean> released(String clientId, int msgId, long retryAt) {
        return redis.<Long>eval(RELEASE_SCRIPT, ScriptOutputType.INTEGER,
                        new String[] {keys.client(INFLIGHT_PREFIX, clientId), keys.ofClientsBucket(RETRIES, clientId)},
                        Integer.toString(msgId), Long.toString(retryAt), clientId)
                .thenApply(inFlight -> inFlight == 1);
    }

    /** PUBACK "invalid topic id": the client lost the registration; the next attempt, at once, registers it again. */
    public CompletionStage<Void> retryNow(String clientId, int msgId) {
        return redis.zadd(keys.ofClientsBucket(RETRIES, clientId), ZAddArgs.Builder.xx(), System.currentTimeMillis(), msgId + ":" + clientId)
                .toCompletableFuture().thenApply(x -> null);
    }

    /** Claims the messages due for another attempt, each by one instance; on a Cluster, one script per bucket. */
    public CompletionStage<List<Retry>> claimRetries(long nextAttemptAt, int maxAttempts, int maxKept) {
        String now = Long.toString(System.currentTimeMillis());
        return KeyLayout.<Retry>inBuckets("downlink retry check", keys.all(), 1, bucket -> redis.eval(CLAIM_RETRIES_SCRIPT, ScriptOutputType.MULTI,
                new String[] {keys.ofBucket(RETRIES, bucket)}, now, Long.toString(nextAttemptAt), Integer.toString(maxAttempts),
                "500", Integer.toString(maxKept), keys.tag(bucket)), (flat, retries) -> {
                    for (int i = 0; i + 4 < flat.size(); i += 5) {
                        retries.add(new Retry("send".equals(String.valueOf(flat.get(i))), String.valueOf(flat.get(i + 1)),
                                Integer.parseInt(String.valueOf(flat.get(i + 2))), Record.parse(String.valueOf(flat.get(i + 3))),
                                String.valueOf(flat.get(i + 4))));
                    }
                });
    }
}
