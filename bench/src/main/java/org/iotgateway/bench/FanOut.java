package org.iotgateway.bench;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketClientProtocolHandler;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.codec.mqtt.MqttConnectMessage;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttPublishMessage;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;

/**
 * Fan-out benchmark: N clients receive a steady MQTT stream, either as the live feed's WebSocket frames
 * ({@code ws://host:port/ws}) or straight from the broker over MQTT ({@code mqtt://host:port}, the baseline). A Paho
 * client publishes {@code rate} QoS 0 messages per second whose payload starts with the publish time (System.nanoTime
 * of this JVM), so every client measures publish-to-receipt latency. Prints key=value lines.
 *
 * <pre>FanOut &lt;ws://host:port/ws | mqtt://host:port&gt; &lt;broker tcp://host:port&gt; &lt;clients&gt; &lt;rate&gt; &lt;seconds&gt; &lt;payload bytes&gt;</pre>
 */
public final class FanOut {

    private static final String TOPIC = "bench/fanout";
    // where the payload starts in the feed's JSON: {"topic":"bench/fanout","data":"<19 digits>...
    private static final int DATA_OFFSET = ("{\"topic\":\"" + TOPIC + "\",\"data\":\"").length();
    private static final long BUCKET_NANOS = 100_000; // 0.1 ms
    private static final int BUCKETS = 100_000; // up to 10 s

    private final LongAdder frames = new LongAdder();
    private final AtomicLongArray latency = new AtomicLongArray(BUCKETS);
    private volatile boolean counting;

    public static void main(String[] args) throws Exception {
        URI target = URI.create(args[0]);
        String broker = args[1];
        int clients = Integer.parseInt(args[2]);
        int rate = Integer.parseInt(args[3]);
        int seconds = Integer.parseInt(args[4]);
        int payloadBytes = Integer.parseInt(args[5]);
        new FanOut().run(target, broker, clients, rate, seconds, payloadBytes);
    }

    private void run(URI target, String broker, int clients, int rate, int seconds, int payloadBytes) throws Exception {
        EpollEventLoopGroup loops = new EpollEventLoopGroup(2);
        CountDownLatch ready = new CountDownLatch(clients);
        List<Channel> channels = new ArrayList<>();
        boolean websocket = target.getScheme().startsWith("ws");
        for (int i = 0; i < clients; i++) {
            Bootstrap bootstrap = new Bootstrap().group(loops).channel(EpollSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(websocket ? websocketClient(target, ready) : mqttClient(i, ready));
            channels.add(bootstrap.connect(target.getHost(), target.getPort()).sync().channel());
        }
        if (!ready.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException(ready.getCount() + " clients did not get ready");
        }
        MqttAsyncClient publisher = new MqttAsyncClient(broker, "fanout-publisher-" + System.nanoTime(), new MemoryPersistence());
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        publisher.connect(options).waitForCompletion(10_000);
        byte[] padding = " ".repeat(Math.max(0, payloadBytes - 20)).getBytes(StandardCharsets.US_ASCII);

        publish(publisher, rate, 5, padding); // warm-up, not counted
        Thread.sleep(1000);
        counting = true;
        long published = publish(publisher, rate, seconds, padding);
        Thread.sleep(2000); // stragglers of the last second
        counting = false;

        long received = frames.sum();
        long expected = published * clients;
        System.out.printf(Locale.ROOT, "clients=%d%nrate=%d%npublished=%d%nframes=%d%nexpected_frames=%d%n"
                        + "frames_per_second=%.0f%np50_ms=%.1f%np99_ms=%.1f%np999_ms=%.1f%nmax_ms=%.1f%nlost=%d%n",
                clients, rate, published, received, expected, received / (double) seconds,
                percentile(0.50), percentile(0.99), percentile(0.999), percentile(1.0), Math.max(0, expected - received));
        publisher.disconnect().waitForCompletion(5000);
        publisher.close();
        channels.forEach(Channel::close);
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    /** Publishes {@code rate} messages per second for {@code seconds}, spread over 1 ms ticks. */
    private static long publish(MqttAsyncClient publisher, int rate, int seconds, byte[] padding) throws Exception {
        long start = System.nanoTime();
        long total = (long) rate * seconds;
        long sent = 0;
        while (sent < total) {
            long due = Math.min(total, (System.nanoTime() - start) * rate / 1_000_000_000L + 1);
            while (sent < due) {
                byte[] stamp = String.format(Locale.ROOT, "%019d", System.nanoTime()).getBytes(StandardCharsets.US_ASCII);
                byte[] payload = new byte[stamp.length + padding.length];
                System.arraycopy(stamp, 0, payload, 0, stamp.length);
                System.arraycopy(padding, 0, payload, stamp.length, padding.length);
                publisher.publish(TOPIC, payload, 0, false);
                sent++;
            }
            Thread.sleep(1);
        }
        return sent;
    }

    private void received(long stampNanos) {
        if (!counting) {
            return;
        }
        frames.increment();
        long bucket = Math.min(BUCKETS - 1, Math.max(0, (System.nanoTime() - stampNanos) / BUCKET_NANOS));
        latency.incrementAndGet((int) bucket);
    }

    private double percentile(double fraction) {
        long total = 0;
        for (int i = 0; i < BUCKETS; i++) {
            total += latency.get(i);
        }
        long rank = (long) Math.ceil(total * fraction);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += latency.get(i);
            if (seen >= rank && seen > 0) {
                return (i + 1) * BUCKET_NANOS / 1e6;
            }
        }
        return 0;
    }

    private static long stampAt(ByteBuf content, int index) {
        long value = 0;
        for (int i = 0; i < 19; i++) {
            value = value * 10 + (content.getByte(index + i) - '0');
        }
        return value;
    }

    private ChannelInitializer<SocketChannel> websocketClient(URI target, CountDownLatch ready) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel channel) {
                channel.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(65536),
                        new WebSocketClientProtocolHandler(WebSocketClientHandshakerFactory.newHandshaker(target,
                                WebSocketVersion.V13, null, false, new DefaultHttpHeaders(), 1 << 20)),
                        new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                            @Override
                            public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
                                if (event == WebSocketClientProtocolHandler.ClientHandshakeStateEvent.HANDSHAKE_COMPLETE) {
                                    ready.countDown();
                                }
                            }

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
                                ByteBuf content = frame.content();
                                int data = content.readerIndex() + DATA_OFFSET;
                                received(stampAt(content, data));
                            }
                        });
            }
        };
    }

    private ChannelInitializer<SocketChannel> mqttClient(int index, CountDownLatch ready) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel channel) {
                channel.pipeline().addLast(new MqttDecoder(1 << 20), MqttEncoder.INSTANCE,
                        new SimpleChannelInboundHandler<MqttMessage>() {
                            @Override
                            public void channelActive(ChannelHandlerContext ctx) {
                                MqttConnectMessage connect = MqttMessageBuilders.connect().clientId("fanout-" + index)
                                        .protocolVersion(MqttVersion.MQTT_3_1_1).cleanSession(true).keepAlive(600).build();
                                ctx.writeAndFlush(connect);
                            }

                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, MqttMessage message) {
                                MqttMessageType type = message.fixedHeader().messageType();
                                if (type == MqttMessageType.CONNACK) {
                                    ctx.writeAndFlush(MqttMessageBuilders.subscribe().messageId(1)
                                            .addSubscription(MqttQoS.AT_MOST_ONCE, TOPIC).build());
                                } else if (type == MqttMessageType.SUBACK) {
                                    ready.countDown();
                                } else if (type == MqttMessageType.PUBLISH) {
                                    ByteBuf payload = ((MqttPublishMessage) message).payload();
                                    received(stampAt(payload, payload.readerIndex()));
                                }
                            }
                        });
            }
        };
    }
}
