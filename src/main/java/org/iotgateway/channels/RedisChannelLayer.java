package org.iotgateway.channels;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import org.iotgateway.ValkeyUri;

/**
 * The channel layer of channels_redis 4.x's {@code RedisChannelLayer}, as it keeps it in Redis, so that a Django app's {@code channel_layer}
 * and this gateway talk without either noticing the other is not Python: a channel is the sorted set
 * {@code <prefix><name>} of 12 random bytes + msgpack members scored by send time; a receiver pops with BZPOPMIN and
 * keeps the message in {@code <key>$inflight} until it has handled it (a message a crashed receiver held is put back on
 * the next receive); a group is the sorted set {@code <prefix>:group:<name>} of channel names; a group send adds, per
 * channel key, one copy carrying {@code __asgi_channel__} (the list of that key's channel names), dropping messages
 * older than the expiry and skipping a channel at capacity.
 */
public final class RedisChannelLayer implements ChannelLayer {

    // Lua scripts as channels_redis runs them, so that Python and Java receivers and senders share one behaviour
    private static final String RESTORE_INFLIGHT = """
            local backed_up = redis.call('ZRANGE', ARGV[2], 0, -1, 'WITHSCORES')
            for i = #backed_up, 1, -2 do
                redis.call('ZADD', ARGV[1], backed_up[i], backed_up[i - 1])
            end
            redis.call('DEL', ARGV[2])
            """;
    // channels_redis trims the group and each channel key in separate calls: the same steps in two scripts, two round trips
    private static final String GROUP_MEMBERS = """
            redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
            return redis.call('ZRANGE', KEYS[1], 0, -1)
            """;
    private static final String GROUP_SEND = """
            local over_capacity = 0
            local cutoff = ARGV[#ARGV - 2]
            local current_time = ARGV[#ARGV - 1]
            local expiry = ARGV[#ARGV]
            for i=1,#KEYS do
                redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, cutoff)
                if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
                    redis.call('ZADD', KEYS[i], current_time, ARGV[i])
                    redis.call('EXPIRE', KEYS[i], expiry)
                else
                    over_capacity = over_capacity + 1
                end
            end
            return over_capacity
            """;
    private static final int RANDOM_PREFIX_BYTES = 12;

    private final RedisClient client;
    private final StatefulRedisConnection<byte[], byte[]> receiving;
    private final StatefulRedisConnection<byte[], byte[]> sending;
    private final String prefix;
    private final int expirySeconds;
    private final int groupExpirySeconds;
    private final int capacity;

    public RedisChannelLayer(String redisUrl, String prefix, int expirySeconds, int groupExpirySeconds, int capacity) {
        this.client = ValkeyUri.client(redisUrl);
        this.prefix = prefix;
        this.expirySeconds = expirySeconds;
        this.groupExpirySeconds = groupExpirySeconds;
        this.capacity = capacity;
        // a blocking BZPOPMIN holds its connection: sends use another one
        this.receiving = client.connect(ByteArrayCodec.INSTANCE);
        this.sending = client.connect(ByteArrayCodec.INSTANCE);
        ValkeyUri.refuseCluster(client, sending,
                "The channel layer's Redis (" + ValkeyUri.describe(ValkeyUri.parse(redisUrl)) + ")");
    }

    @Override
    public Received receive(String channel, long timeoutSeconds) throws MsgPack.MalformedMessageException {
        RedisCommands<byte[], byte[]> redis = receiving.sync();
        byte[] key = bytes(prefix + channel);
        byte[] inflight = bytes(prefix + channel + "$inflight");
        redis.eval(RESTORE_INFLIGHT, ScriptOutputType.STATUS, new byte[0][], key, inflight);
        KeyValue<byte[], ScoredValue<byte[]>> popped = redis.bzpopmin(timeoutSeconds, key);
        if (popped == null || !popped.hasValue()) {
            return null;
        }
        ScoredValue<byte[]> member = popped.getValue();
        redis.zadd(inflight, member.getScore(), member.getValue());
        Object message;
        try {
            message = MsgPack.decode(member.getValue(), RANDOM_PREFIX_BYTES);
        } catch (MsgPack.MalformedMessageException e) {
            done(channel, member.getValue());
            throw e;
        }
        if (!(message instanceof Map<?, ?>)) {
            done(channel, member.getValue());
            throw new MsgPack.MalformedMessageException("the message is not a msgpack map");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) message;
        return new Received(member.getValue(), map);
    }

    /** The message is handled: its in-flight copy goes. */
    @Override
    public void done(String channel, byte[] member) {
        receiving.sync().zrem(bytes(prefix + channel + "$inflight"), member);
    }

    /**
     * Sends {@code message} to every channel of {@code group}; completes with how many channels were at capacity.
     * Sends on one connection keep their order: each one's second step is issued when its first completes.
     */
    @Override
    public CompletionStage<Long> groupSend(String group, Map<String, Object> message) {
        RedisAsyncCommands<byte[], byte[]> redis = sending.async();
        double now = System.currentTimeMillis() / 1000.0;
        byte[][] groupKey = {bytes(prefix + ":group:" + group)};
        return redis.<List<byte[]>>eval(GROUP_MEMBERS, ScriptOutputType.MULTI, groupKey,
                bytes(Long.toString((long) now - groupExpirySeconds))).thenCompose(members -> {
            Map<String, List<String>> channelsByKey = new LinkedHashMap<>();
            for (byte[] channel : members) {
                String name = new String(channel, StandardCharsets.UTF_8);
                int bang = name.indexOf('!');
                String key = prefix + (bang >= 0 ? name.substring(0, bang + 1) : name);
                channelsByKey.computeIfAbsent(key, ignored -> new ArrayList<>()).add(name);
            }
            if (channelsByKey.isEmpty()) {
                return CompletableFuture.completedFuture(0L);
            }
            List<byte[]> keys = new ArrayList<>();
            List<byte[]> arguments = new ArrayList<>();
            for (Map.Entry<String, List<String>> entry : channelsByKey.entrySet()) {
                keys.add(bytes(entry.getKey()));
                Map<String, Object> copy = new LinkedHashMap<>(message);
                copy.put("__asgi_channel__", entry.getValue());
                arguments.add(serialize(copy));
            }
            for (int i = 0; i < keys.size(); i++) {
                arguments.add(bytes(Integer.toString(capacity)));
            }
            arguments.add(bytes(Long.toString((long) now - expirySeconds)));
            arguments.add(bytes(Double.toString(now)));
            arguments.add(bytes(Integer.toString(expirySeconds)));
            return redis.<Long>eval(GROUP_SEND, ScriptOutputType.INTEGER, keys.toArray(byte[][]::new),
                    arguments.toArray(byte[][]::new));
        });
    }

    private byte[] serialize(Map<String, Object> message) {
        byte[] body = MsgPack.encode(message);
        byte[] member = new byte[RANDOM_PREFIX_BYTES + body.length];
        byte[] prefixBytes = new byte[RANDOM_PREFIX_BYTES];
        // uniqueness within the sorted set, not secrecy
        ThreadLocalRandom.current().nextBytes(prefixBytes);
        System.arraycopy(prefixBytes, 0, member, 0, RANDOM_PREFIX_BYTES);
        System.arraycopy(body, 0, member, RANDOM_PREFIX_BYTES, body.length);
        return member;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        receiving.close();
        sending.close();
        client.shutdown();
    }
}
