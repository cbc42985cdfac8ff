package org.iotgateway.mqttsn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioDatagramChannel;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Replies produced off the socket's event loop (PUBACKs after RabbitMQ's confirm): on the native transport they leave
 * at once from the listening port, and never once the socket has closed.
 */
class ReplyWriterTest {

    private static final byte[] PUBACK = {0x07, 0x0D, 0x00, 0x01, 0x00, 0x2A, 0x00};
    private static final String PUBACK_HEX = "07 0d 00 01 00 2a 00";

    private EventLoopGroup loops;
    private Channel channel;
    private ReplyWriter writer;
    private final CountDownLatch loopReleased = new CountDownLatch(1);

    @AfterEach
    void stop() {
        loopReleased.countDown();
        if (loops != null) {
            loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void should_send_a_reply_from_another_thread_while_the_event_loop_is_busy() throws Exception {
        assumeTrue(Epoll.isAvailable(), "the native transport runs on Linux");
        open(new EpollEventLoopGroup(1), EpollDatagramChannel.class);
        try (UdpClient device = new UdpClient(port())) {
            holdEventLoop();

            sendFromAnotherThread(device);

            assertThat(device.receive(2000)).isEqualTo(PUBACK_HEX);
        }
    }

    @Test
    void should_leave_replies_to_the_event_loop_in_order_on_the_nio_transport() throws Exception {
        open(new NioEventLoopGroup(1), NioDatagramChannel.class);
        try (UdpClient device = new UdpClient(port())) {
            holdEventLoop();
            byte[] second = PUBACK.clone();
            second[5] = 0x2B;
            CompletableFuture.runAsync(() -> {
                writer.send(PUBACK, new InetSocketAddress("127.0.0.1", device.localPort()));
                writer.send(second, new InetSocketAddress("127.0.0.1", device.localPort()));
            }).get(2, TimeUnit.SECONDS);

            loopReleased.countDown();

            assertThat(device.receive(2000)).isEqualTo(PUBACK_HEX);
            assertThat(device.receive(2000)).isEqualTo("07 0d 00 01 00 2b 00");
        }
    }

    @Test
    void should_not_write_on_the_descriptor_once_the_socket_has_closed() throws Exception {
        assumeTrue(Epoll.isAvailable(), "the native transport runs on Linux");
        open(new EpollEventLoopGroup(1), EpollDatagramChannel.class);
        try (UdpClient device = new UdpClient(port())) {
            channel.close().syncUninterruptibly();
            // the lowest free descriptor number is reused: most likely the closed socket's. A write through the stale
            // number would reach the device from this socket, which UdpClient reports as a reply from the wrong port
            try (DatagramChannel reuser = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
                sendFromAnotherThread(device);

                assertThat(device.receive(500)).isNull();
            }
        }
    }

    private void open(EventLoopGroup group, Class<? extends Channel> type) throws InterruptedException {
        loops = group;
        channel = new Bootstrap().group(group).channel(type)
                .handler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        writer = ReplyWriter.attachTo(ch);
                    }
                })
                .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    private int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Keeps the event loop's one thread busy until the test ends or releases it. */
    private void holdEventLoop() throws Exception {
        CountDownLatch held = new CountDownLatch(1);
        channel.eventLoop().execute(() -> {
            held.countDown();
            try {
                loopReleased.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThat(held.await(2, TimeUnit.SECONDS)).isTrue();
    }

    private void sendFromAnotherThread(UdpClient device) throws Exception {
        CompletableFuture.runAsync(() -> writer.send(PUBACK, new InetSocketAddress("127.0.0.1", device.localPort())))
                .get(2, TimeUnit.SECONDS);
    }
}
