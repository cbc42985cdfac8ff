package org.iotgateway.mqttsn;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/**
 * Logs a warning per reason at most once per interval, with the number of occurrences it left out, so that a flood of
 * bad datagrams cannot flood the log. Every occurrence is logged at DEBUG.
 */
final class ThrottledLog {

    private final Logger log;
    private final long intervalNanos;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    private static final class Window {
        volatile long lastLoggedAt;
        final AtomicLong suppressed = new AtomicLong();
    }

    ThrottledLog(Logger log, long intervalMillis) {
        this.log = log;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    void warn(String reason, String message, Object source) {
        if (log.isDebugEnabled()) {
            log.debug("{} from {}: {}", reason, source, message);
            return;
        }
        Window window = windows.computeIfAbsent(reason, r -> new Window());
        long now = System.nanoTime();
        if (window.lastLoggedAt != 0 && now - window.lastLoggedAt < intervalNanos) {
            window.suppressed.incrementAndGet();
            return;
        }
        window.lastLoggedAt = now;
        long left = window.suppressed.getAndSet(0);
        if (left > 0) {
            log.warn("{} from {}: {} ({} more since the last report)", reason, source, message, left);
        } else {
            log.warn("{} from {}: {}", reason, source, message);
        }
    }
}
