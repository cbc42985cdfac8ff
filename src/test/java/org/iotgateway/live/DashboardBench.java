package org.iotgateway.live;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.iotgateway.testing.HeadlessChromium;
import org.iotgateway.testing.Metrics;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;

import static org.awaitility.Awaitility.await;

/**
 * The dashboard under load (run by bench/dashboard, not by the tests): a headless Chromium page of the live feed, first
 * idle for the baseline, then fed RATE messages/s (JSON readings over TOPICS topics, through Mosquitto and the gateway)
 * for SECONDS, with a chart of one topic's field and the detail pane open, as someone watching it would have them.
 * Every SAMPLE seconds: the page's frame rate and its longest frame (requestAnimationFrame), its JS heap, DOM nodes and
 * main-thread busy time (Chromium's Performance metrics), the CPU of all Chromium processes, and the messages the page
 * counted against those published. Prints key=value lines and saves a screenshot at the end. Arguments: rate topics idleSeconds seconds sampleSeconds
 * screenshotFile.
 */
public final class DashboardBench {

    private DashboardBench() {
    }

    public static void main(String[] args) throws Exception {
        int rate = Integer.parseInt(args[0]);
        int topics = Integer.parseInt(args[1]);
        int idleSeconds = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int sampleSeconds = Integer.parseInt(args[4]);
        String screenshot = args[5];
        try (RunningGateway gateway = RunningGateway.startOnly("live", Map.of());
             HeadlessChromium browser = HeadlessChromium.start();
             MqttTestClient publisher = new MqttTestClient(gateway.property("live.mqtt-url"))) {
            gateway.awaitMqttReady("liveMqtt");
            browser.open("http://127.0.0.1:" + gateway.property("live.port") + "/?filter=bench/%23");
            waitFor(browser, "document.getElementById('broker').className === 'badge open'");
            // a frame counter and the longest gap between frames, read and reset at each sample
            browser.evaluate("window.benchFrames = 0; window.benchLongest = 0; (() => { let last = performance.now();"
                    + " const tick = now => { benchFrames++; benchLongest = Math.max(benchLongest, now - last); last = now;"
                    + " requestAnimationFrame(tick); }; requestAnimationFrame(tick); })(); true");
            Sampler sampler = new Sampler(browser);
            AtomicLong published = new AtomicLong();
            sampler.sample("idle", idleSeconds, published);

            Thread load = new Thread(() -> publish(publisher, rate, topics, published), "bench-publisher");
            load.setDaemon(true);
            load.start();
            waitFor(browser, "document.querySelector('#list .message') !== null");
            // someone watching: the detail pane on the first topic and a chart of its temperature
            browser.evaluate("document.querySelector('#list .message').click(); document.querySelector('#detail-chart button').click(); true");
            sampler.reset();
            for (int elapsed = 0; elapsed < seconds; elapsed += sampleSeconds) {
                sampler.sample("load", sampleSeconds, published);
            }
            // what the page looked like at the end, beside the report
            browser.screenshot(java.nio.file.Path.of(screenshot));
            load.interrupt();
            load.join();
            System.out.printf(Locale.ROOT, "published=%d%npage_counted=%s%ndropped_badge=%s%n", published.get(),
                    browser.evaluate("document.getElementById('count').textContent").asText(),
                    browser.evaluate("document.getElementById('dropped').hidden ? '0' : document.getElementById('dropped').textContent").asText());
            System.out.printf(Locale.ROOT, "gateway_frames_dropped=%.0f%n",
                    Metrics.sum(gateway.metrics(), "live_frames_dropped_total"));
        }
    }

    /** Open loop: RATE messages a second, each topic in turn, paced every 10 ms. */
    private static void publish(MqttTestClient publisher, int rate, int topics, AtomicLong published) {
        long start = System.nanoTime();
        try {
            while (!Thread.currentThread().isInterrupted()) {
                long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
                for (long n = published.get(); n < due; n = published.incrementAndGet()) {
                    double temperature = 20 + 5 * Math.sin(n / 500.0);
                    publisher.publish("bench/building-" + (n % topics) / 10 + "/room-" + n % topics, String.format(Locale.ROOT,
                            "{\"temperature\":%.2f,\"humidity\":%d,\"seq\":%d}", temperature, 40 + n % 20, n)
                            .getBytes(StandardCharsets.UTF_8), 0, false);
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
        } catch (Exception e) {
            // the end of the run interrupts the publisher, also inside Paho's wait for the socket
            if (!Thread.currentThread().isInterrupted() && !(e instanceof InterruptedException)
                    && !(e.getCause() instanceof InterruptedException)) {
                throw new IllegalStateException(e);
            }
        }
    }

    private static void waitFor(HeadlessChromium browser, String condition) {
        await().alias("the page comes to: " + condition).atMost(30, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(200))
                .until(() -> browser.evaluate("(() => { try { return " + condition + "; } catch (e) { return false; } })()").asBoolean());
    }

    /** One line per window: frames, heap, nodes, main-thread and process CPU, messages counted by the page. */
    private static final class Sampler {
        private final HeadlessChromium browser;
        private int index;
        private long startNanos;
        private long cpuTicks;
        private double taskSeconds;
        private long counted;

        Sampler(HeadlessChromium browser) throws Exception {
            this.browser = browser;
            reset();
        }

        void reset() throws Exception {
            browser.evaluate("benchFrames = 0; benchLongest = 0; true");
            startNanos = System.nanoTime();
            cpuTicks = cpuTicks();
            taskSeconds = browser.performanceMetrics().get("TaskDuration");
            counted = counted();
        }

        void sample(String phase, int seconds, AtomicLong published) throws Exception {
            TimeUnit.SECONDS.sleep(seconds);
            double elapsed = (System.nanoTime() - startNanos) / 1e9;
            var frames = browser.evaluate("[benchFrames, benchLongest]");
            Map<String, Double> metrics = browser.performanceMetrics();
            long ticks = cpuTicks();
            long pageCounted = counted();
            System.out.printf(Locale.ROOT, "sample=%d phase=%s seconds=%.1f fps=%.1f longest_frame_ms=%.0f heap_mb=%.1f dom_nodes=%.0f"
                            + " main_thread_busy=%.3f chromium_cores=%.3f page_msgs_per_s=%.0f published=%d%n",
                    ++index, phase, elapsed, frames.get(0).asDouble() / elapsed, frames.get(1).asDouble(),
                    metrics.get("JSHeapUsedSize") / 1e6, metrics.get("Nodes"),
                    (metrics.get("TaskDuration") - taskSeconds) / elapsed, (ticks - cpuTicks) / 100.0 / elapsed,
                    (pageCounted - counted) / elapsed, published.get());
            reset();
        }

        private long cpuTicks() {
            List<ProcessHandle> processes = browser.processes();
            return processes.stream().mapToLong(process -> Metrics.cpuTicks(process.pid())).sum();
        }

        private long counted() throws Exception {
            return Long.parseLong(browser.evaluate("document.getElementById('count').textContent").asText());
        }
    }
}
