package org.iotgateway.channels;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.iotgateway.ValkeyUri;

/**
 * The channel layer of channels_redis 4.x's {@code RedisPubSubChannelLayer}: a channel is the Redis Pub/Sub channel of
 * the same name, a group the Pub/Sub channel {@code <prefix>__group__<group>}, messages plain msgpack. Nothing is
 * stored, so a message sent while no worker listens is gone (that backend's nature), and there is no capacity.
 */
public final class RedisPubSubChannelLayer implements ChannelLayer {

    private final RedisClient client;
    private final StatefulRedisConnection<byte[], byte[]> sending;
    private final StatefulRedisPubSubConnection<byte[], byte[]> listening;
    private final String prefix;
    private final BlockingQueue<byte[]> arrived = new LinkedBlockingQueue<>();
    private String subscribed;

    public RedisPubSubChannelLayer(String redisUrl, String prefix) {
        this.client = ValkeyUri.client(redisUrl);
        this.prefix = prefix;
        this.sending = client.connect(ByteArrayCodec.INSTANCE);
        ValkeyUri.refuseCluster(client, sending,
                "The channel layer's Redis (" + ValkeyUri.describe(ValkeyUri.parse(redisUrl)) + ")");
        this.listening = client.connectPubSub(ByteArrayCodec.INSTANCE);
        listening.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(byte[] channel, byte[] message) {
                arrived.add(message);
            }
        });
    }

    @Override
    public Received receive(String channel, long timeoutSeconds) throws MsgPack.MalformedMessageException {
        if (!channel.equals(subscribed)) {
            listening.sync().subscribe(channel.getBytes(StandardCharsets.UTF_8));
            subscribed = channel;
        }
        byte[] member;
        try {
            member = arrived.poll(timeoutSeconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        if (member == null) {
            return null;
        }
        if (!(MsgPack.decode(member, 0) instanceof Map<?, ?> map)) {
            throw new MsgPack.MalformedMessageException("the message is not a msgpack map");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> message = (Map<String, Object>) map;
        return new Received(member, message);
    }

    @Override
    public void done(String channel, byte[] member) {
        // nothing is kept while a message is handled
    }

    @Override
    public CompletionStage<Long> groupSend(String group, Map<String, Object> message) {
        return sending.async().publish((prefix + "__group__" + group).getBytes(StandardCharsets.UTF_8), MsgPack.encode(message))
                .thenApply(receivers -> 0L);
    }

    @Override
    public void close() {
        listening.close();
        sending.close();
        client.shutdown();
    }
}
