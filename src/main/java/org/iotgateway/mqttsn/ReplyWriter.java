package org.iotgateway.mqttsn;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.Socket;
import io.netty.channel.unix.UnixChannel;

/**
 * Sends the replies of one socket, from any thread; it sits in the socket's pipeline to see it close.
 *
 * <p>Most PUBACKs are produced on the RabbitMQ client's thread, when the broker confirms. On the native transport such
 * a reply is written there and then, straight on the socket's descriptor: handing it to the event loop would cost a
 * wake-up per reply and make the reply wait for that thread to get a core, which on a busy machine is where the
 * latency's tail grows. Where that cannot be done (the NIO transport, a full send buffer, replies already waiting) the
 * reply is queued, and one task on the event loop writes everything queued with a single flush.
 */
final class ReplyWriter extends ChannelOutboundHandlerAdapter {

    /** Replies take a few hundred bytes at most, a forwarder's wrapping included; a larger one takes the event loop. */
    private static final int DIRECT_CAPACITY = 512;
    private static final ThreadLocal<ByteBuffer> DIRECT_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(DIRECT_CAPACITY));

    private final Channel channel;
    /** The native socket, or null when the transport cannot be written from another thread. */
    private final Socket socket;
    /**
     * Held shared around each direct write and exclusively to close: once the descriptor is closed its number can be
     * reused by any file the process opens (a RabbitMQ connection, say), so no thread may write to it after that. Netty
     * closes a datagram channel only through its pipeline (read and write errors leave it open) or when its event loop
     * shuts down, which the consumer does after closing its channels.
     */
    private final ReadWriteLock closing = new ReentrantReadWriteLock();
    private boolean open = true;
    private final Queue<Reply> pending = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;

    private record Reply(byte[] datagram, InetSocketAddress recipient) {
    }

    /**
     * A writer for the socket, placed in its pipeline: only there does it see the socket close before the descriptor
     * is released, so there is no other way to make one.
     */
    static ReplyWriter attachTo(Channel channel) {
        ReplyWriter writer = new ReplyWriter(channel);
        channel.pipeline().addFirst(writer);
        return writer;
    }

    private ReplyWriter(Channel channel) {
        this.channel = channel;
        this.socket = channel instanceof UnixChannel unix && unix.fd() instanceof Socket nativeSocket
                ? nativeSocket : null;
    }

    /** Sends a datagram to the address; callable from any thread. */
    void send(byte[] datagram, InetSocketAddress recipient) {
        boolean inOrder = pending.isEmpty();
        if (inOrder && channel.eventLoop().inEventLoop()) {
            channel.writeAndFlush(packet(datagram, recipient), channel.voidPromise());
            return;
        }
        if (inOrder && sentOnDescriptor(datagram, recipient)) {
            return;
        }
        pending.add(new Reply(datagram, recipient));
        if (scheduled.compareAndSet(false, true)) {
            channel.eventLoop().execute(drain);
        }
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) throws Exception {
        closing.writeLock().lock();
        try {
            open = false;
        } finally {
            closing.writeLock().unlock();
        }
        super.close(ctx, promise);
    }

    /**
     * One sendto on the socket; false leaves the reply to the event loop, whose write reports any error the normal
     * way. Never waits: while the socket is closing the reply is queued, and dropped with the channel.
     */
    private boolean sentOnDescriptor(byte[] datagram, InetSocketAddress recipient) {
        if (socket == null || datagram.length > DIRECT_CAPACITY || !closing.readLock().tryLock()) {
            return false;
        }
        try {
            if (!open) {
                return false;
            }
            ByteBuffer buffer = DIRECT_BUFFER.get().clear().put(datagram).flip();
            // 0 when the send buffer is full (EAGAIN)
            return socket.sendTo(buffer, 0, buffer.limit(), recipient.getAddress(), recipient.getPort()) > 0;
        } catch (IOException e) {
            return false;
        } finally {
            closing.readLock().unlock();
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
