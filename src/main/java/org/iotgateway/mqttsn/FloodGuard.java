package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.util.HashMap;

/**
 * Counts datagrams per source address in one-second windows. Used by one socket's event-loop thread only, so it needs
 * no locking; the map never holds more than one window's sources.
 */
final class FloodGuard {

    private final int limitPerSecond;
    private final HashMap<InetSocketAddress, int[]> counts = new HashMap<>();
    private long windowStart = System.nanoTime();

    FloodGuard(int limitPerSecond) {
        this.limitPerSecond = limitPerSecond;
    }

    /** Whether one more datagram from the source fits in its budget for the current second. */
    boolean admit(InetSocketAddress source) {
        if (limitPerSecond <= 0) {
            return true;
        }
        long now = System.nanoTime();
        if (now - windowStart >= 1_000_000_000L) {
            counts.clear();
            windowStart = now;
        }
        int[] count = counts.computeIfAbsent(source, s -> new int[1]);
        return ++count[0] <= limitPerSecond;
    }
}
