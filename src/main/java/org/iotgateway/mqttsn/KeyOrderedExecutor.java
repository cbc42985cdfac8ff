package org.iotgateway.mqttsn;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Runs tasks on a pool, those of one key (a device's address) one after another in the order they came, those of
 * different keys side by side: a device's readings reach the route in the order it sent them, while a step that waits
 * for one device holds only that device's readings. A key has a queue only while it has tasks waiting or running.
 */
final class KeyOrderedExecutor {

    private final Executor pool;
    private final ConcurrentHashMap<Object, Queue<Runnable>> queues = new ConcurrentHashMap<>();

    KeyOrderedExecutor(Executor pool) {
        this.pool = pool;
    }

    /** Runs the task after the key's earlier tasks; throws what the pool throws when it refuses work (stopped). */
    void execute(Object key, Runnable task) {
        boolean[] idle = {false};
        queues.compute(key, (k, queue) -> {
            if (queue == null) {
                queue = new ArrayDeque<>(2);
                idle[0] = true;
            }
            queue.add(task);
            return queue;
        });
        if (idle[0]) {
            try {
                pool.execute(() -> drain(key));
            } catch (RuntimeException refused) {
                queues.remove(key);
                throw refused;
            }
        }
    }

    private void drain(Object key) {
        Runnable[] next = new Runnable[1];
        queues.computeIfPresent(key, (k, queue) -> {
            next[0] = queue.peek();
            return queue;
        });
        while (next[0] != null) {
            try {
                next[0].run();
            } finally {
                next[0] = null;
                queues.computeIfPresent(key, (k, queue) -> {
                    queue.poll();
                    next[0] = queue.peek();
                    return queue.isEmpty() ? null : queue;
                });
            }
        }
    }

    /** Keys with tasks waiting or running. */
    int busyKeys() {
        return queues.size();
    }
}
