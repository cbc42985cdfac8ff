package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.util.HashMap;

/**
 * A token bucket per source: {@code limitPerSecond} datagrams a second, in bursts of as many. The source is the
 * sender's IP address, so that a host cannot multiply its budget by sending from many ports; with {@code perPort} (the
 * gateway keys clients by ip:port because devices share an address behind a NAT) it is ip:port.
 * <p>
 * Its state is bounded: buckets that have refilled are forgotten every second (a full bucket is the same as none),
 * and beyond {@link #MAX_SOURCES} sources at once the newcomers share one bucket, so that a flood from spoofed addresses
 * neither grows the heap nor takes the budget of the sources already known. Used by one socket's event-loop thread
 * only, so it needs no locking.
 */
final class FloodGuard {

    static final int MAX_SOURCES = 65_536;
    private static final long SECOND = 1_000_000_000L;
    /** The key of the bucket the sources beyond {@link #MAX_SOURCES} share. */
    private static final Object NEWCOMERS = new Object();

    private final int limitPerSecond;
    private final boolean perPort;
    private final HashMap<Object, Bucket> buckets = new HashMap<>();
    private long lastSweep;

    /** Tokens in nanosecond units: one datagram costs {@link #SECOND}, and a nanosecond adds {@code limitPerSecond}. */
    private static final class Bucket {
        long tokens;
        long refilledAt;
    }

    FloodGuard(int limitPerSecond, boolean perPort) {
        this.limitPerSecond = limitPerSecond;
        this.perPort = perPort;
        this.lastSweep = System.nanoTime();
    }

    /** Whether one more datagram from the source fits in its budget. */
    boolean admit(InetSocketAddress source) {
        return admit(source, System.nanoTime());
    }

    boolean admit(InetSocketAddress source, long now) {
        if (limitPerSecond <= 0) {
            return true;
        }
        if (now - lastSweep >= SECOND) {
            buckets.values().removeIf(bucket -> refill(bucket, now) == capacity());
            lastSweep = now;
        }
        Object key = perPort ? source : source.getAddress();
        Bucket bucket = buckets.get(key);
        if (bucket == null) {
            if (buckets.size() >= MAX_SOURCES) {
                key = NEWCOMERS;
                bucket = buckets.get(key);
            }
            if (bucket == null) {
                bucket = new Bucket();
                bucket.tokens = capacity();
                bucket.refilledAt = now;
                buckets.put(key, bucket);
            }
        }
        if (refill(bucket, now) < SECOND) {
            return false;
        }
        bucket.tokens -= SECOND;
        return true;
    }

    /** Sources with a bucket that has not refilled yet; at most {@link #MAX_SOURCES} and one for the newcomers. */
    int trackedSources() {
        return buckets.size();
    }

    private long capacity() {
        return limitPerSecond * SECOND;
    }

    private long refill(Bucket bucket, long now) {
        long elapsed = now - bucket.refilledAt;
        if (elapsed > 0) {
            // past a second the bucket is full whatever the rate: no product that could overflow
            bucket.tokens = elapsed >= SECOND ? capacity() : Math.min(capacity(), bucket.tokens + elapsed * limitPerSecond);
            bucket.refilledAt = now;
        }
        return bucket.tokens;
    }
}
