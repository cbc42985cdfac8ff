package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;

/**
 * Sends the replies of one socket. Most PUBACKs are produced on the RabbitMQ client's thread, often many at once (a
 * confirm can cover a batch); handing each to the event loop separately costs a task and a wake-up apiece, so replies
 * are queued and one task writes everything queued with a single flush.
 */
final class ReplyWriter {

    private final Channel channel;
    private final Queue<Reply> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;

    private record Reply(byte[] datagram, InetSocketAddress recipient) {
    }

    ReplyWriter(Channel channel) {
        this.channel = channel;
    }

    /** Sends a datagram to the address; callable from any thread. */
    void send(byte[] datagram, InetSocketAddress recipient) {
        if (channel.eventLoop().inEventLoop() && pending.isEmpty()) {
            channel.writeAndFlush(packet(datagram, recipient), channel.voidPromise());
            return;
        }
        pending.add(new Reply(datagram, recipient));
        if (scheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(drain);
        }
    }

    private void drain() {
        scheduled.set(false);
        boolean wrote = false;
        for (Reply reply = pending.poll(); reply != null; reply = pending.poll()) {
            channel.write(packet(reply.datagram(), reply.recipient()), channel.voidPromise());
            wrote = true;
        }
        if (wrote) {
            channel.flush();
        }
    }

    /**
     * The reply in a direct buffer from the start (the native transport would copy a heap buffer into one), taken from
     * the pool on the event loop that writes and releases it, so that it comes from and goes back to that thread's cache
     * and no pooled buffer waits in the queue.
     */
    private DatagramPacket packet(byte[] datagram, InetSocketAddress recipient) {
        ByteBuf content = channel.alloc().directBuffer(datagram.length).writeBytes(datagram);
        return new DatagramPacket(content, recipient);
    }
}
