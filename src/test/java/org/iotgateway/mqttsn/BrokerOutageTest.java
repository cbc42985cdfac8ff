package org.iotgateway.mqttsn;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.Delivery;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StallingProxy;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.iotgateway.testing.Vectors.message;

/**
 * RabbitMQ goes away while a device publishes: every reading that was answered with PUBACK rc 0 must be in the queue
 * afterwards; the rest were answered with congestion (or not at all) and the device keeps them. Three times: RabbitMQ
 * stopped and started, RabbitMQ's process killed (-9) and started again (both need the RabbitMQ CI starts: IT_RABBITMQCTL
 * and its RABBITMQ_* settings), and the connection cut without a word, as when the network drops (a relay in front of
 * RabbitMQ closes its sockets and refuses new ones for 3 s). The figures, including the time from RabbitMQ's return to the first reading acknowledged again, are
 * printed for docs/testing.md.
 */
class BrokerOutageTest {

    private static final String ACCEPTED = "00";

    /** Takes RabbitMQ away and lets it back; returns System.nanoTime() of the moment it was let back. */
    private interface Outage {
        long run() throws Exception;
    }

    /** What a run of readings through an outage came to. */
    private record Outcome(Set<String> acked, int congestion, int unanswered, long recoveryMillis) {
    }

    @Test
    void should_have_every_reading_acked_rc0_in_the_queue_after_rabbitmq_stops_mid_stream() throws Exception {
        String rabbitmqctl = System.getenv("IT_RABBITMQCTL");
        assumeTrue(rabbitmqctl != null, "IT_RABBITMQCTL is not set: no RabbitMQ this test may stop");
        String amqpUrl = System.getenv("IT_AMQP_URL");
        Outcome outcome = publishThrough(Map.of(), () -> {
            run(rabbitmqctl + " stop_app");
            run(rabbitmqctl + " start_app");
            return System.nanoTime();
        }, "stop_app and start_app; from start_app's return");
        assertEveryAckedReadingQueued(amqpUrl, outcome);
    }

    @Test
    void should_have_every_reading_acked_rc0_in_the_queue_after_rabbitmq_is_killed_and_started_again() throws Exception {
        String rabbitmqctl = System.getenv("IT_RABBITMQCTL");
        assumeTrue(rabbitmqctl != null && System.getenv("RABBITMQ_NODENAME") != null,
                "IT_RABBITMQCTL and the node's RABBITMQ_* settings are not set: no RabbitMQ this test may kill and start");
        Outcome outcome = publishThrough(Map.of(), () -> {
            // the node's own OS process (beam), killed as the kernel's OOM killer or a power cut would
            String pid = output(rabbitmqctl + " eval 'os:getpid().'").replace("\"", "").strip();
            run("kill -9 " + pid);
            // started again as .ci/services started it: this JVM has the node's settings in its environment
            run("setsid /usr/lib/rabbitmq/bin/rabbitmq-server >/dev/null 2>&1 </dev/null &");
            long started = System.nanoTime();
            run("timeout 90 bash -c 'until " + rabbitmqctl + " await_startup >/dev/null 2>&1; do sleep 1; done'");
            return started;
        }, "kill -9 and started again; from the start command, RabbitMQ's own boot included");
        assertEveryAckedReadingQueued(System.getenv("IT_AMQP_URL"), outcome);
    }

    @Test
    void should_have_every_reading_acked_rc0_in_the_queue_after_the_connection_is_cut_without_a_word() throws Exception {
        StallingProxy relay = StallingProxy.toRabbitMq();
        try {
            Outcome outcome = publishThrough(Map.of("mqttsn.amqp-connection-string", relay.url()), () -> {
                relay.down();
                TimeUnit.SECONDS.sleep(3);
                relay.up();
                return System.nanoTime();
            }, "connection cut for 3 s; from its return");
            assertEveryAckedReadingQueued(relay.brokerUrl(), outcome);
        } finally {
            relay.close();
        }
    }

    private String queueName;

    /** Publishes QoS 1 readings one by one; after the 300th the outage runs; goes on until 200 more were acknowledged. */
    private Outcome publishThrough(Map<String, String> settings, Outage outage, String what) throws Exception {
        queueName = "outage-" + UUID.randomUUID();
        Set<String> acked = new HashSet<>();
        int congestion = 0;
        int unanswered = 0;
        long recoveryMillis = -1;
        Map<String, String> all = new java.util.HashMap<>(settings);
        all.put("mqttsn.use-port-number-in-client-store", "true");
        try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", all);
             UdpClient device = new UdpClient(gateway.udpPort())) {
            new AmqpQueue(System.getenv().getOrDefault("IT_AMQP_URL", gateway.amqpUrl()), "mqtt-sn", "outage.#", queueName).disconnect();
            assertThat(device.exchange(message("04 04 01 00 3c", "outage"))).isEqualTo("03 05 00");
            assertThat(device.exchange(message("0a 00 00 00 01", "outage/readings"))).isEqualTo("07 0b 00 01 00 01 00");

            CompletableFuture<Long> back = null;
            java.util.List<Long> ackedAt = new java.util.ArrayList<>();
            int sinceReturn = 0;
            for (int msgId = 1; msgId < 60_000 && sinceReturn < 200; msgId++) {
                String payload = "reading-" + msgId;
                device.send(message(String.format("0c 20 00 01 %02x %02x", msgId >> 8, msgId & 0xff), payload));
                String reply = device.receive(1000);
                if (reply == null) {
                    unanswered++;
                } else if (reply.endsWith(ACCEPTED)) {
                    acked.add(payload);
                    if (back != null) {
                        ackedAt.add(System.nanoTime());
                        sinceReturn += back.isDone() ? 1 : 0;
                    }
                } else {
                    congestion++;
                }
                if (msgId == 300) {
                    back = CompletableFuture.supplyAsync(() -> {
                        try {
                            return outage.run();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                }
            }
            assertThat(back).isNotNull();
            long backAt = back.join();
            recoveryMillis = ackedAt.stream().filter(at -> at >= backAt).findFirst()
                    .map(at -> TimeUnit.NANOSECONDS.toMillis(at - backAt)).orElse(-1L);
        }
        System.out.printf("RabbitMQ outage (%s): %d readings acknowledged rc 0, %d answered congestion, %d unanswered;"
                          + " first rc 0 %d ms after RabbitMQ was back%n", what, acked.size(), congestion, unanswered, recoveryMillis);
        assertThat(congestion + unanswered).as("readings not accepted during the outage").isPositive();
        return new Outcome(acked, congestion, unanswered, recoveryMillis);
    }

    private void assertEveryAckedReadingQueued(String amqpUrl, Outcome outcome) throws Exception {
        Set<String> queued = new HashSet<>();
        int deliveries = 0;
        try (AmqpQueue queue = new AmqpQueue(amqpUrl, "mqtt-sn", "outage.#", queueName, false)) {
            // until every acknowledged reading came, or 10 s without a delivery: a RabbitMQ just restarted with
            // thousands of messages on disk may pause its deliveries for more than a second
            for (Delivery message = queue.next(Duration.ofSeconds(10)); message != null;
                 message = queued.containsAll(outcome.acked()) ? queue.next(Duration.ofSeconds(1)) : queue.next(Duration.ofSeconds(10))) {
                queued.add(new String(message.getBody(), StandardCharsets.US_ASCII));
                deliveries++;
            }
        }
        assertThat(queued).as("every reading answered rc 0 is in the queue").containsAll(outcome.acked());
        System.out.printf("RabbitMQ outage: %d acknowledged readings, all in the queue; %d messages there, %d of them"
                          + " duplicates%n", outcome.acked().size(), deliveries, deliveries - queued.size());
    }

    private static String output(String command) {
        try {
            Process process = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.waitFor() != 0) {
                throw new IllegalStateException(command + " exited with " + process.exitValue() + ": " + output);
            }
            return output;
        } catch (Exception e) {
            throw new IllegalStateException(command + ": " + e, e);
        }
    }

    private static void run(String command) {
        try {
            Process process = new ProcessBuilder("bash", "-c", command).inheritIO().start();
            if (process.waitFor() != 0) {
                throw new IllegalStateException(command + " exited with " + process.exitValue());
            }
        } catch (Exception e) {
            throw new IllegalStateException(command + ": " + e, e);
        }
    }
}
