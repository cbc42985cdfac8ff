package org.iotgateway.mqttsn;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.message;

/**
 * One host floods the gateway from many ports at 50 times the default flood limit while a meter at another address
 * publishes: the meter's every reading is acknowledged at the first attempt. The figures are printed for docs/mqttsn.md.
 */
class FloodIsolationTest {

    static final int READINGS = 1_000;
    /** Datagrams per second the flooding host sends: 50 times the flood limit, well within what one core here sends. */
    static final int FLOOD_RATE = 50_000;

    @Test
    void should_acknowledge_every_reading_of_a_good_device_at_the_first_attempt_while_another_host_floods() throws Exception {
        try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of());
             UdpClient meter = UdpClient.atOwnAddress(gateway.udpPort());
             AmqpQueue readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "flood.#", "flood-" + UUID.randomUUID())) {
            String clientId = "flood-" + UUID.randomUUID().toString().substring(0, 8);
            assertThat(meter.exchange(message("04 04 01 00 3c", clientId))).isEqualTo("03 05 00");
            assertThat(meter.exchange(message("0a 00 00 00 01", "flood/" + clientId))).isEqualTo("07 0b 00 01 00 01 00");

            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicLong sent = new AtomicLong();
            Thread flooder = new Thread(() -> flood(gateway.udpPort(), flooding, sent), "flooder");
            flooder.start();
            // the meter starts once the flood runs at its rate
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> sent.get() >= FLOOD_RATE / 2);
            long start = System.nanoTime();
            int firstAttempt = 0;
            List<Long> latencies = new ArrayList<>();
            for (int i = 1; i <= READINGS; i++) {
                String msgId = String.format("%02x %02x", i >> 8, i & 0xff);
                long sentAt = System.nanoTime();
                meter.send(message("0c 20 00 01 " + msgId, "r" + i));
                String reply = meter.receive(2_000);
                if (("07 0d 00 01 " + msgId + " 00").equals(reply)) {
                    firstAttempt++;
                    latencies.add(System.nanoTime() - sentAt);
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            long floodSent = sent.get();
            flooding.set(false);
            flooder.join();
            long floodDropped = counter(gateway.metrics(), "mqttsn_datagrams_dropped_total\\{[^}]*reason=\"flood\"[^}]*} ([0-9.E]+)");
            latencies.sort(null);
            System.out.printf("Flood: %,d datagrams from 20 ports of one ip, %,d dropped by the guard; meter: %d of %d"
                              + " readings acknowledged at the first attempt in %.1f s, p99 %.2f ms%n",
                    floodSent, floodDropped, firstAttempt, READINGS, seconds,
                    latencies.isEmpty() ? 0 : latencies.get((int) (latencies.size() * 0.99)) / 1e6);
            assertThat(firstAttempt).as("readings acknowledged at the first attempt").isEqualTo(READINGS);
            assertThat(floodDropped).as("the flood was dropped by the guard").isGreaterThan(floodSent / 2);
            for (int i = 1; i <= READINGS; i++) {
                assertThat(readings.next(Duration.ofSeconds(5))).isNotNull();
            }
        }
    }

    /** PUBLISHes from an address with no session, from 20 ports of one loopback address, at {@link #FLOOD_RATE}. */
    private static void flood(int gatewayPort, AtomicBoolean flooding, AtomicLong sent) {
        List<UdpClient> ports = new ArrayList<>();
        try {
            UdpClient first = UdpClient.atOwnAddress(gatewayPort);
            ports.add(first);
            for (int i = 1; i < 20; i++) {
                ports.add(new UdpClient(first.localAddress(), gatewayPort));
            }
            byte[] publish = message("0c 20 00 01 00 01", "x".repeat(40));
            long start = System.nanoTime();
            while (flooding.get()) {
                for (UdpClient port : ports) {
                    port.send(publish);
                }
                long due = start + sent.addAndGet(ports.size()) * 1_000_000_000L / FLOOD_RATE;
                java.util.concurrent.locks.LockSupport.parkNanos(due - System.nanoTime());
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            ports.forEach(UdpClient::close);
        }
    }

    private static long counter(String metrics, String pattern) {
        Matcher matcher = Pattern.compile(pattern).matcher(metrics);
        return matcher.find() ? (long) Double.parseDouble(matcher.group(1)) : 0;
    }
}
