package org.iotgateway.mqttsn;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Runs tasks on a pool, those of one key (a device's address) one after another in the order they came, those of
 * different keys side by side: a device's readings reach the route in the order it sent them, while a step that waits
 * for one device holds only that device's readings. A key has a queue only while one of its tasks runs.
 */
final class KeyOrderedExecutor {

    private final Executor pool;
    private final ConcurrentHashMap<Object, Queue<Runnable>> queues = new ConcurrentHashMap<>();

    KeyOrderedExecutor(Executor pool) {
        this.pool = pool;
    }

    /**
     * Runs the task after the key's earlier tasks; throws what the pool throws when it refuses work (stopped). The
     * tasks of one key are handed over by one thread (the socket's that received them).
     */
    void execute(Object key, Runnable task) {
        boolean[] idle = {false};
        // a key's queue holds its tasks waiting behind the one running; none for a key with nothing running
        queues.compute(key, (k, waiting) -> {
            if (waiting == null) {
                idle[0] = true;
                return new ArrayDeque<>(2);
            }
            waiting.add(task);
            return waiting;
        });
        if (idle[0]) {
            try {
                pool.execute(() -> drain(key, task));
            } catch (RuntimeException refused) {
                queues.remove(key);
                throw refused;
            }
        }
    }

    private void drain(Object key, Runnable first) {
        Runnable[] next = {first};
        while (next[0] != null) {
            try {
                next[0].run();
            } finally {
                queues.computeIfPresent(key, (k, waiting) -> {
                    next[0] = waiting.poll();
                    return next[0] == null ? null : waiting;
                });
            }
        }
    }

    /** Keys with tasks waiting or running. */
    int busyKeys() {
        return queues.size();
    }
}
