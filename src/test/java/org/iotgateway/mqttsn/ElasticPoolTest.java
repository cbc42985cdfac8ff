package org.iotgateway.mqttsn;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class ElasticPoolTest {

    private final ThreadPoolExecutor threads = new ThreadPoolExecutor(2, 8, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final ElasticPool pool = new ElasticPool(threads, 8, 5, timer);

    @AfterEach
    void stop() {
        timer.shutdownNow();
        threads.shutdownNow();
    }

    @Test
    void should_start_more_threads_while_its_threads_are_held_and_let_them_go_after() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        for (int i = 0; i < 2; i++) {
            pool.execute(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        CountDownLatch quick = new CountDownLatch(1);
        pool.execute(quick::countDown);
        assertThat(quick.await(5, TimeUnit.SECONDS)).as("a quick task behind two held threads").isTrue();
        assertThat(pool.threads()).isGreaterThan(2).isLessThanOrEqualTo(8);
        release.countDown();
        await().atMost(5, TimeUnit.SECONDS).until(() -> pool.threads() == 2);
    }

    @Test
    void should_stay_at_its_base_while_tasks_are_quick() throws Exception {
        CountDownLatch done = new CountDownLatch(100_000);
        for (int i = 0; i < 100_000; i++) {
            pool.execute(done::countDown);
        }
        assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(pool.threads()).isEqualTo(2);
    }
}
