package org.iotgateway.mqttsn;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KeyOrderedExecutorTest {

    private final ExecutorService pool = Executors.newFixedThreadPool(4);
    private final KeyOrderedExecutor executor = new KeyOrderedExecutor(pool);

    @AfterEach
    void stop() {
        pool.shutdownNow();
    }

    @Test
    void should_run_each_keys_tasks_in_the_order_given_however_many_threads_the_pool_has() throws Exception {
        Map<String, List<Integer>> ran = new ConcurrentHashMap<>();
        CountDownLatch done = new CountDownLatch(4 * 2_000);
        for (int i = 0; i < 2_000; i++) {
            for (String device : List.of("a", "b", "c", "d")) {
                int sequence = i;
                executor.execute(device, () -> {
                    ran.computeIfAbsent(device, key -> new CopyOnWriteArrayList<>()).add(sequence);
                    done.countDown();
                });
            }
        }
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        ran.values().forEach(sequence -> assertThat(sequence).isSorted().hasSize(2_000));
        // the last task counts down before its key's queue is released: wait for that, not for the count
        Awaitility.await().atMost(Duration.ofSeconds(5)).alias("no queue is kept for an idle key")
                .until(() -> executor.busyKeys() == 0);
    }

    @Test
    void should_run_other_keys_while_one_keys_task_waits() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch otherRan = new CountDownLatch(1);
        CountDownLatch laterOfSameKeyRan = new CountDownLatch(1);
        executor.execute("slow", () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        executor.execute("slow", laterOfSameKeyRan::countDown);
        executor.execute("other", otherRan::countDown);
        assertThat(otherRan.await(5, TimeUnit.SECONDS)).as("another key's task").isTrue();
        assertThat(laterOfSameKeyRan.getCount()).as("the waiting key's next task").isEqualTo(1);
        release.countDown();
        assertThat(laterOfSameKeyRan.await(5, TimeUnit.SECONDS)).isTrue();
    }
}
