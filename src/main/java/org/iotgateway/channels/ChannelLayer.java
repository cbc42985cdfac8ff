package org.iotgateway.channels;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The side of a Django Channels channel layer the worker uses: receive from its channel, send to groups. One
 * implementation per channels_redis backend: {@link RedisChannelLayer} and {@link RedisPubSubChannelLayer}.
 */
public interface ChannelLayer extends AutoCloseable {

    /** A message taken off a channel; {@code member} is how the layer stored it, for {@link #done}. */
    record Received(byte[] member, Map<String, Object> message) {
    }

    /**
     * Waits up to {@code timeoutSeconds} for the next message on {@code channel}; null when none came. A message that
     * does not decode is dropped and reported as a {@link MsgPack.MalformedMessageException}.
     */
    Received receive(String channel, long timeoutSeconds) throws MsgPack.MalformedMessageException;

    /** The message is handled (a layer that keeps it until then lets it go now). */
    void done(String channel, byte[] member);

    /** Sends to every channel of {@code group}; completes with how many channels were at capacity and missed it. */
    CompletionStage<Long> groupSend(String group, Map<String, Object> message);

    @Override
    void close();

    /** The layer of a channels_redis backend, by the class name a Django settings file gives it. */
    static ChannelLayer of(String backend, String redisUrl, String prefix, int expirySeconds, int groupExpirySeconds, int capacity) {
        return switch (backend) {
            case "RedisChannelLayer" -> new RedisChannelLayer(redisUrl, prefix, expirySeconds, groupExpirySeconds, capacity);
            case "RedisPubSubChannelLayer" -> new RedisPubSubChannelLayer(redisUrl, prefix);
            default -> throw new IllegalArgumentException("channels.layer must be RedisChannelLayer or RedisPubSubChannelLayer, not '"
                    + backend + "'");
        };
    }
}
