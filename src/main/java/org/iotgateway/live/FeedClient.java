package org.iotgateway.live;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import org.iotgateway.mqtt.TopicFilter;

/**
 * One browser connection. Touched only on its channel's event loop. Frames go straight to the socket while it keeps
 * up; otherwise they wait in a bounded backlog whose oldest frame makes room for the newest.
 */
final class FeedClient {

    final Channel channel;
    final String address;
    private final FeedShard shard;
    private final int backlogLimit;
    private final ArrayDeque<ByteBuf> backlog = new ArrayDeque<>();
    private final List<TopicFilter> filters;
    private long droppedSinceCaughtUp;
    /** Frames dropped for this client since it connected, and how many of them its last status frame told it of. */
    long dropped;
    long droppedReported;
    /** Asked for status frames ({"status":true}). */
    boolean watchesStatus;
    private long overloadedSinceNanos;
    private boolean dirty;
    boolean closing;

    FeedClient(Channel channel, FeedShard shard, List<TopicFilter> filters, int backlogLimit) {
        this.channel = channel;
        this.address = String.valueOf(channel.remoteAddress());
        this.shard = shard;
        this.filters = new ArrayList<>(filters);
        this.backlogLimit = backlogLimit;
    }

    boolean wants(String topic) {
        for (TopicFilter filter : filters) {
            if (filter.matches(topic)) {
                return true;
            }
        }
        return false;
    }

    List<TopicFilter> filters() {
        return filters;
    }

    /** Takes ownership of {@code frame}. */
    void offer(ByteBuf frame) {
        if (closing) {
            frame.release();
            return;
        }
        if (backlog.isEmpty() && channel.isWritable()) {
            write(frame);
            return;
        }
        if (backlog.size() >= backlogLimit) {
            backlog.poll().release();
            droppedSinceCaughtUp++;
            dropped++;
            shard.dropped();
            if (overloadedSinceNanos == 0) {
                overloadedSinceNanos = System.nanoTime();
            }
        }
        backlog.add(frame);
    }

    /** The socket can take more: move the backlog to it. */
    void drain() {
        while (!backlog.isEmpty() && channel.isWritable()) {
            write(backlog.poll());
        }
        if (backlog.isEmpty()) {
            overloadedSinceNanos = 0;
            droppedSinceCaughtUp = 0;
        }
        flush();
    }

    private void write(ByteBuf frame) {
        channel.write(frame, channel.voidPromise());
        shard.sent();
        if (!dirty) {
            dirty = true;
            shard.markDirty(this);
        }
    }

    void flush() {
        dirty = false;
        channel.flush();
    }

    /** Nanoseconds this client has been dropping frames without catching up, 0 when it keeps up. */
    long overloadedNanos(long now) {
        return overloadedSinceNanos == 0 ? 0 : now - overloadedSinceNanos;
    }

    long droppedSinceCaughtUp() {
        return droppedSinceCaughtUp;
    }

    void discardBacklog() {
        closing = true;
        while (!backlog.isEmpty()) {
            backlog.poll().release();
        }
    }
}
