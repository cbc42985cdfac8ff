package org.iotgateway.mqttsn;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A pool that runs on few threads while its tasks are quick and grows, up to a maximum, while they wait: every few
 * milliseconds it looks at the oldest task waiting for a thread. If that one has waited longer than the patience while
 * fewer tasks finished than there are threads, the threads are held (by a route step that waits), so more are
 * started; tasks that wait while many finish mean the CPU is busy, which more threads would not help. Once nothing
 * waits, the extra threads end as they become idle. Few threads keep the quick path cheap: each idle thread a task wakes costs a context switch
 * (measured: 32 fixed threads took 50-55 µs of gateway CPU per reading at peak, 4-8 about 31-44 µs).
 */
final class ElasticPool implements Executor {

    /** A task and when it was handed over, so that the watch can tell how long the oldest one has waited. */
    private record Timed(Runnable task, long enqueuedAt) implements Runnable {
        @Override
        public void run() {
            task.run();
        }
    }

    private final ThreadPoolExecutor pool;
    private final int base;
    private final int max;
    private final long patienceNanos;
    private long completedBefore;

    /**
     * @param pool a pool with an unbounded queue, {@code base} core threads; its core size is changed from here on
     * @param max the most threads
     * @param patienceMillis how long a task may wait for a thread before more are started
     * @param timer runs the watch every {@code patienceMillis}
     */
    ElasticPool(ThreadPoolExecutor pool, int max, long patienceMillis, ScheduledExecutorService timer) {
        this.pool = pool;
        this.base = pool.getCorePoolSize();
        this.max = Math.max(max, base);
        this.patienceNanos = TimeUnit.MILLISECONDS.toNanos(patienceMillis);
        timer.scheduleWithFixedDelay(this::watch, patienceMillis, patienceMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void execute(Runnable task) {
        pool.execute(new Timed(task, System.nanoTime()));
    }

    private void watch() {
        int threads = pool.getCorePoolSize();
        long completed = pool.getCompletedTaskCount();
        long finishedMeanwhile = completed - completedBefore;
        completedBefore = completed;
        Runnable oldest = pool.getQueue().peek();
        if (oldest instanceof Timed timed && System.nanoTime() - timed.enqueuedAt() > patienceNanos) {
            if (threads < max && finishedMeanwhile < threads) {
                // starts the new threads at once for the tasks waiting
                pool.setCorePoolSize(Math.min(max, threads + base));
            }
        } else if (oldest == null && threads > base && pool.getActiveCount() < threads - base) {
            // threads past the new size end when they next become idle
            pool.setCorePoolSize(threads - base);
        }
    }

    /** Threads now allowed (for tests and metrics). */
    int threads() {
        return pool.getCorePoolSize();
    }
}
