package org.iotgateway.mqttsn.store;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;

/**
 * Subscriptions and the messages on their way down to devices, all in the store so that any instance delivers to any
 * device and takes its acknowledgements:
 * <ul>
 *   <li>{@code subs:{clientId}}, a hash: topic filter → granted QoS;</li>
 *   <li>{@code subscribers:{filter}}, a hash: client id → granted QoS, the index a downlink message is matched with
 *   (every instance keeps the set of filters in memory, kept right by the server's invalidations of this prefix);</li>
 *   <li>{@code inflight:{clientId}}, a hash: message id → a QoS 1 message sent and not yet acknowledged;</li>
 *   <li>{@code sleepq:{clientId}}, a list: the messages kept for a sleeping client, oldest first, bounded;</li>
 *   <li>{@code downlink-ids:{clientId}}: the counter the message ids of its downlink come from;</li>
 *   <li>{@code mqttsn:retries}, a sorted set: {@code msgId:clientId} of each message in flight scored by the epoch
 *   milliseconds of its next attempt, claimed by one instance at a time.</li>
 * </ul>
 * A message is a record {@code attempts|qos|retain|topicIdType|topicId|payload base64|topic}: the topic last, as
 * it is the one field that may hold the separator. A record kept for a sleeping client has its topic id resolved when
 * the client wakes ({@code topicId} 0 for a normal topic).
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
     * One message for one client: kept when it sleeps; sent when it is active (returns send, address, topic id, 1 when
     * the id is new to the client, message id); else not delivered (returns its state).
     */
    private static final String DELIVER_SCRIPT = RESOLVE_FUNCTION + """
            local s = redis.call('HMGET', KEYS[1], 'state', 'address')
            local qos, topicIdType, topicId = tonumber(ARGV[2]), ARGV[4], tonumber(ARGV[5])
            local tail = ARGV[3] .. '|' .. topicIdType .. '|'
            if s[1] == 'asleep' then
              redis.call('RPUSH', KEYS[4], '1|' .. qos .. '|' .. tail .. topicId .. '|' .. ARGV[6] .. '|' .. ARGV[1])
              redis.call('LTRIM', KEYS[4], -tonumber(ARGV[10]), -1)
              redis.call('EXPIRE', KEYS[4], ARGV[9])
              return {'buffered'}
            end
            if s[1] ~= 'active' or not s[2] then return {'absent', s[1] or 'unknown'} end
            local fresh = 0
            if topicIdType == '0' then
              topicId, fresh = resolve(KEYS[2], ARGV[1], tonumber(ARGV[8]), ARGV[9])
              if topicId == 0 then return {'absent', 'no topic id left'} end
            end
            local msgId = 0
            if qos > 0 then
              msgId = track(KEYS[3], KEYS[5], KEYS[6], '1|' .. qos .. '|' .. tail .. topicId .. '|' .. ARGV[6] .. '|' .. ARGV[1],
                  ARGV[7], ARGV[11], ARGV[9])
            end
            return {'send', s[2], tostring(topicId), tostring(fresh), tostring(msgId)}
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
            local out = {}
            for _, member in ipairs(due) do
              local msgId, clientId = string.match(member, '^(%d+):(.*)$')
              local inflight = 'inflight:' .. clientId
              local record = redis.call('HGET', inflight, msgId)
              if not record then
                redis.call('ZREM', KEYS[1], member)
              else
                local s = redis.call('HMGET', 'session:' .. clientId, 'state', 'address')
                local attempts = tonumber(string.match(record, '^(%d+)|'))
                if s[1] == 'asleep' then
                  redis.call('RPUSH', 'sleepq:' .. clientId, record)
                  redis.call('LTRIM', 'sleepq:' .. clientId, -tonumber(ARGV[5]), -1)
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
              redis.call('HDEL', 'subscribers:' .. filter, ARGV[1])
              if redis.call('EXISTS', 'subscribers:' .. filter) == 0 then emptied[#emptied + 1] = filter end
            end
            redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
            return emptied
            """;

    private final RedisAsyncCommands<String, String> redis;
    private final long sessionTtlSeconds;

    /** A message for one client as the store keeps it. */
    public record Record(int attempts, int qos, boolean retain, int topicIdType, int topicId, byte[] payload, String topic) {

        static Record parse(String record) {
            String[] fields = record.split("\\|", 7);
            return new Record(Integer.parseInt(fields[0]), Integer.parseInt(fields[1]), fields[2].equals("1"),
                    Integer.parseInt(fields[3]), Integer.parseInt(fields[4]), Base64.getDecoder().decode(fields[5]), fields[6]);
        }
    }

    /** What became of a message for one client. */
    public sealed interface Delivery {
        /** Send it now: to this address, with this topic id (REGISTER first when new to the client) and message id. */
        record Send(String address, int topicId, boolean newTopicId, int msgId) implements Delivery {
        }

        /** Kept until the sleeping client wakes. */
        record Buffered() implements Delivery {
        }

        /** Not delivered: the client is disconnected, lost or unknown, or has no topic id left. */
        record Absent(String why) implements Delivery {
        }
    }

    /** A kept message to send to a client that woke: REGISTER first when the topic id is new to it. */
    public record Woken(Record record, boolean newTopicId, int msgId) {
    }

    /** A message due for another attempt (or dropped: out of attempts, client gone). */
    public record Retry(boolean send, String clientId, int msgId, Record record, String addressOrState) {
    }

    Subscriptions(RedisAsyncCommands<String, String> redis, Duration sessionTtl) {
        this.redis = redis;
        this.sessionTtlSeconds = sessionTtl.toSeconds();
    }

    /** SUBSCRIBE: true when the filter had no subscriber before (the broker binding is to be made). */
    public CompletionStage<Boolean> subscribe(String clientId, String filter, int qos) {
        return redis.<Long>eval(SUBSCRIBE_SCRIPT, ScriptOutputType.INTEGER,
                        new String[] {SUBS_PREFIX + clientId, SUBSCRIBERS_PREFIX + filter},
                        filter, Integer.toString(qos), Long.toString(sessionTtlSeconds), clientId)
                .thenApply(first -> first == 1);
    }

    /** UNSUBSCRIBE: true when the filter has no subscriber left (the broker binding may go). */
    public CompletionStage<Boolean> unsubscribe(String clientId, String filter) {
        return redis.<Long>eval(UNSUBSCRIBE_SCRIPT, ScriptOutputType.INTEGER,
                        new String[] {SUBS_PREFIX + clientId, SUBSCRIBERS_PREFIX + filter}, filter, clientId)
                .thenApply(last -> last == 1);
    }

    /** A clean session: the client's subscriptions and kept messages are gone; returns the filters left with none. */
    public CompletionStage<List<String>> clear(String clientId) {
        return redis.<List<Object>>eval(CLEAR_SCRIPT, ScriptOutputType.MULTI,
                        new String[] {SUBS_PREFIX + clientId, INFLIGHT_PREFIX + clientId, SLEEP_PREFIX + clientId}, clientId)
                .thenApply(emptied -> emptied.stream().map(String::valueOf).toList());
    }

    /** Whether any client still subscribes to the filter (after a broker unbinding, to undo it if one did meanwhile). */
    public CompletionStage<Boolean> hasSubscribers(String filter) {
        return redis.exists(SUBSCRIBERS_PREFIX + filter).thenApply(count -> count > 0);
    }

    /** The subscribers of these filters with the highest QoS each was granted among them. */
    public CompletionStage<Map<String, Integer>> subscribers(List<String> filters) {
        List<CompletableFuture<Map<String, String>>> reads = new ArrayList<>(filters.size());
        for (String filter : filters) {
            reads.add(redis.hgetall(SUBSCRIBERS_PREFIX + filter).toCompletableFuture());
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(done -> {
            Map<String, Integer> clients = new HashMap<>();
            for (CompletableFuture<Map<String, String>> read : reads) {
                read.join().forEach((clientId, qos) -> clients.merge(clientId, Integer.parseInt(qos), Math::max));
            }
            return clients;
        });
    }

    /** Every filter with a subscriber, streamed in batches (at start and after the store reconnects). */
    public CompletionStage<Void> allFilters(Consumer<String> each) {
        return scan(ScanCursor.INITIAL, each);
    }

    private CompletionStage<Void> scan(ScanCursor cursor, Consumer<String> each) {
        return redis.scan(cursor, ScanArgs.Builder.matches(SUBSCRIBERS_PREFIX + "*").limit(1000))
                .thenCompose((KeyScanCursor<String> page) -> {
                    page.getKeys().forEach(key -> each.accept(key.substring(SUBSCRIBERS_PREFIX.length())));
                    return page.isFinished() ? CompletableFuture.completedFuture(null) : scan(page, each);
                });
    }

    /**
     * A message for one client: kept while it sleeps, else tracked for retries (QoS 1) and to be sent to its address.
     * {@code topicIdType} normal (0) has its id resolved or registered here; short (2) and predefined (1) come with it.
     */
    public CompletionStage<Delivery> deliver(String clientId, String topic, int topicIdType, int topicId, int qos,
                                             boolean retain, byte[] payload, long retryAt, int maxTopics, int maxKept) {
        String[] keys = {ClientSessions.SESSION_PREFIX + clientId, SessionStore.TOPIC_PREFIX + clientId,
                INFLIGHT_PREFIX + clientId, SLEEP_PREFIX + clientId, IDS_PREFIX + clientId, RETRIES};
        return redis.<List<Object>>eval(DELIVER_SCRIPT, ScriptOutputType.MULTI, keys,
                        topic, Integer.toString(qos), retain ? "1" : "0", Integer.toString(topicIdType),
                        Integer.toString(topicId), Base64.getEncoder().encodeToString(payload), Long.toString(retryAt),
                        Integer.toString(maxTopics), Long.toString(sessionTtlSeconds), Integer.toString(maxKept), clientId)
                .thenApply(answer -> switch (String.valueOf(answer.get(0))) {
                    case "send" -> new Delivery.Send(String.valueOf(answer.get(1)),
                            Integer.parseInt(String.valueOf(answer.get(2))), "1".equals(String.valueOf(answer.get(3))),
                            Integer.parseInt(String.valueOf(answer.get(4))));
                    case "buffered" -> new Delivery.Buffered();
                    default -> new Delivery.Absent(String.valueOf(answer.get(1)));
                });
    }

    /** A sleeping client woke (PINGREQ with its id) at this address: the messages kept for it, in order. */
    public CompletionStage<List<Woken>> wake(String clientId, String address, long retryAt, int maxTopics) {
        String[] keys = {ClientSessions.SESSION_PREFIX + clientId, SessionStore.TOPIC_PREFIX + clientId,
                INFLIGHT_PREFIX + clientId, SLEEP_PREFIX + clientId, IDS_PREFIX + clientId, RETRIES};
        return redis.<List<Object>>eval(WAKE_SCRIPT, ScriptOutputType.MULTI, keys,
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

    /** PUBACK from the client: the message is delivered (or refused for good), nothing more to retry. */
    public CompletionStage<Void> acknowledged(String clientId, int msgId) {
        redis.zrem(RETRIES, msgId + ":" + clientId);
        return redis.hdel(INFLIGHT_PREFIX + clientId, Integer.toString(msgId)).toCompletableFuture().thenApply(x -> null);
    }

    /** PUBACK "invalid topic id": the client lost the registration; the next attempt, at once, registers it again. */
    public CompletionStage<Void> retryNow(String clientId, int msgId) {
        return redis.zadd(RETRIES, io.lettuce.core.ZAddArgs.Builder.xx(), System.currentTimeMillis(), msgId + ":" + clientId)
                .toCompletableFuture().thenApply(x -> null);
    }

    /** Claims the messages due for another attempt, each by one instance. */
    public CompletionStage<List<Retry>> claimRetries(long nextAttemptAt, int maxAttempts, int maxKept) {
        return redis.<List<Object>>eval(CLAIM_RETRIES_SCRIPT, ScriptOutputType.MULTI, new String[] {RETRIES},
                        Long.toString(System.currentTimeMillis()), Long.toString(nextAttemptAt), Integer.toString(maxAttempts),
                        "500", Integer.toString(maxKept))
                .thenApply(flat -> {
                    List<Retry> retries = new ArrayList<>(flat.size() / 5);
                    for (int i = 0; i + 4 < flat.size(); i += 5) {
                        retries.add(new Retry("send".equals(String.valueOf(flat.get(i))), String.valueOf(flat.get(i + 1)),
                                Integer.parseInt(String.valueOf(flat.get(i + 2))), Record.parse(String.valueOf(flat.get(i + 3))),
                                String.valueOf(flat.get(i + 4))));
                    }
                    return retries;
                });
    }
}
