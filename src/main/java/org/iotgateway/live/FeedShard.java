package org.iotgateway.live;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import org.iotgateway.mqtt.TopicFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clients of one event loop and that loop's copy of the retained messages. Every method runs on the loop, so a new
 * client's retained replay and the live messages that follow it are in order, without locks and without duplicates.
 */
final class FeedShard {

    private static final Logger LOG = LoggerFactory.getLogger(FeedShard.class);

    final EventLoop loop;
    private final LiveFeed feed;
    private final List<FeedClient> clients = new ArrayList<>();
    private final Map<String, ByteBuf> retained = new HashMap<>();
    private final List<FeedClient> dirty = new ArrayList<>();
    private final AtomicInteger pending = new AtomicInteger();
    private boolean flushScheduled;
    // read by the MQTT thread when it has to skip this loop
    private volatile int clientCount;
    private boolean retainedFullReported;
    /** The resubscription whose replay is being collected, and the topics it replayed (see {@link #startResync}). */
    private long resync;
    private final Set<String> replayed = new HashSet<>();
    private long retainedBytes;
    private long sent;
    private long dropped;

    FeedShard(EventLoop loop, LiveFeed feed) {
        this.loop = loop;
        this.feed = feed;
        loop.scheduleAtFixedRate(this::disconnectSlowClients, 1, 1, TimeUnit.SECONDS);
    }

    /** From the MQTT thread: hands one message to this loop unless the loop is too far behind. */
    void submit(String topic, ByteBuf frame, boolean retainedFlag, boolean clearsRetained) {
        if (pending.incrementAndGet() > feed.getMaxPendingMessages()) {
            pending.decrementAndGet();
            feed.overloaded(clientCount);
            return;
        }
        frame.retain();
        loop.execute(() -> {
            pending.decrementAndGet();
            deliver(topic, frame, retainedFlag, clearsRetained);
        });
    }

    private void deliver(String topic, ByteBuf frame, boolean retainedFlag, boolean clearsRetained) {
        try {
            if (resync != 0 && retainedFlag) {
                replayed.add(topic);
            }
            if (clearsRetained) {
                forgetRetained(topic);
            } else if (retainedFlag) {
                keepRetained(topic, frame);
            }
            for (FeedClient client : clients) {
                if (client.wants(topic)) {
                    client.offer(frame.retainedDuplicate());
                }
            }
        } finally {
            frame.release();
        }
        scheduleFlush();
    }

    private void keepRetained(String topic, ByteBuf frame) {
        forgetRetained(topic);
        boolean tooMany = retained.size() >= feed.getRetainedTopicsMax();
        boolean tooLarge = retainedBytes + frame.readableBytes() > feed.getRetainedBytesMax();
        if (tooMany || tooLarge) {
            // the topic's older value is gone too: a new client must not be shown a stale one
            if (!retainedFullReported) {
                retainedFullReported = true;
                LOG.warn("Live feed keeps the retained messages of {} topics ({} bytes), the most live.retained-topics-max"
                        + " and live.retained-bytes-max allow; newer ones are not replayed to new clients",
                        retained.size(), retainedBytes);
            }
            return;
        }
        retained.put(topic, frame.retainedDuplicate());
        retainedBytes += frame.readableBytes();
    }

    private void forgetRetained(String topic) {
        ByteBuf previous = retained.remove(topic);
        if (previous != null) {
            retainedBytes -= previous.readableBytes();
            previous.release();
        }
    }

    /** A new client: first the retained messages it asked for, then live ones. */
    void add(FeedClient client) {
        replayRetained(client, List.of());
        clients.add(client);
        clientCount = clients.size();
        scheduleFlush();
    }

    /** Sends the retained messages that match the client's filters and none of {@code alreadyMatched}. */
    void replayRetained(FeedClient client, List<TopicFilter> alreadyMatched) {
        for (Map.Entry<String, ByteBuf> entry : retained.entrySet()) {
            String topic = entry.getKey();
            if (client.wants(topic) && alreadyMatched.stream().noneMatch(filter -> filter.matches(topic))) {
                client.offer(entry.getValue().retainedDuplicate());
            }
        }
        scheduleFlush();
    }

    void remove(FeedClient client) {
        clients.remove(client);
        clientCount = clients.size();
        dirty.remove(client);
        client.discardBacklog();
    }

    int clientCount() {
        return clientCount;
    }

    void markDirty(FeedClient client) {
        dirty.add(client);
    }

    void sent() {
        sent++;
    }

    void dropped() {
        dropped++;
    }

    /** One flush per client for everything written since the last one, once the loop has run what is queued. */
    private void scheduleFlush() {
        if (!flushScheduled && !dirty.isEmpty()) {
            flushScheduled = true;
            loop.execute(this::flushDirty);
        }
    }

    private void flushDirty() {
        flushScheduled = false;
        // a flush can make a socket writable again, whose backlog then marks the client dirty anew: iterate a copy
        FeedClient[] flushing = dirty.toArray(FeedClient[]::new);
        dirty.clear();
        for (FeedClient client : flushing) {
            client.flush();
        }
        scheduleFlush();
        feed.count(sent, dropped);
        sent = 0;
        dropped = 0;
    }

    /** The broker's state changed: every client that watches the status is told. */
    void sendStatus() {
        for (FeedClient client : clients) {
            if (client.watchesStatus) {
                sendStatus(client, null);
            }
        }
    }

    /** The feed's status for one client, as the reply to a request ({@code id}) or on a change. */
    void sendStatus(FeedClient client, JsonNode id) {
        client.droppedReported = client.dropped;
        client.offer(WebSocketFrames.text(client.channel.alloc(), feed.status(client, id).getBytes(StandardCharsets.UTF_8)));
        scheduleFlush();
    }

    private void disconnectSlowClients() {
        long now = System.nanoTime();
        long limit = TimeUnit.SECONDS.toNanos(feed.getSlowClientTimeoutSeconds());
        feed.count(sent, dropped);
        sent = 0;
        dropped = 0;
        for (Iterator<FeedClient> it = clients.iterator(); it.hasNext(); ) {
            FeedClient client = it.next();
            if (client.watchesStatus && client.dropped != client.droppedReported) {
                // a page shows what it missed: at most a frame a second while it is behind
                sendStatus(client, null);
            }
            if (client.overloadedNanos(now) > limit) {
                it.remove();
                clientCount = clients.size();
                String reason = "too slow: " + client.droppedSinceCaughtUp() + " messages dropped in "
                        + TimeUnit.NANOSECONDS.toSeconds(client.overloadedNanos(now)) + " s";
                LOG.warn("Live feed: disconnecting {}: {}", client.address, reason);
                feed.disconnectedTooSlow();
                client.discardBacklog();
                client.channel.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.POLICY_VIOLATION, reason));
                // its socket is full, so the close frame may never leave: do not wait for it
                client.channel.eventLoop().schedule(() -> client.channel.close(), 2, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * The connection subscribes again (after a reconnect): the broker replays the retained messages it holds, and a
     * kept one it does not replay (a broker restarted without persistence) is stale.
     */
    void startResync(long round) {
        resync = round;
        replayed.clear();
    }

    /** The replay of {@code round} is over: retained messages it did not bring are forgotten. */
    void endResync(long round) {
        if (resync != round) {
            return;
        }
        List<String> stale = retained.keySet().stream().filter(topic -> !replayed.contains(topic)).toList();
        stale.forEach(this::forgetRetained);
        if (!stale.isEmpty()) {
            LOG.info("Live feed: {} retained messages the broker no longer holds are not replayed any more", stale.size());
        }
        resync = 0;
        replayed.clear();
    }

    void releaseRetained() {
        retained.values().forEach(ByteBuf::release);
        retained.clear();
        retainedBytes = 0;
    }
}
