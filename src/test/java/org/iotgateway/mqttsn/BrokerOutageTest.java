package org.iotgateway.mqttsn;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import com.rabbitmq.client.Delivery;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.iotgateway.testing.Vectors.message;

/**
 * RabbitMQ stops while a device publishes: every reading that was answered with PUBACK rc 0 must be in the queue
 * afterwards; the rest were answered with congestion (or not at all) and the device keeps them. Needs a RabbitMQ the
 * test may stop and start: CI sets IT_RABBITMQCTL.
 */
class BrokerOutageTest {

    private static final String ACCEPTED = "00";

    @Test
    void should_have_every_reading_acked_rc0_in_the_queue_after_rabbitmq_stops_mid_stream() throws Exception {
        String rabbitmqctl = System.getenv("IT_RABBITMQCTL");
        assumeTrue(rabbitmqctl != null, "IT_RABBITMQCTL is not set: no RabbitMQ this test may stop");
        String queueName = "outage-" + UUID.randomUUID();
        Set<String> acked = new HashSet<>();
        String amqpUrl;
        int congestion = 0;
        int unanswered = 0;
        try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.use-port-number-in-client-store", "true"));
             UdpClient device = new UdpClient(gateway.udpPort())) {
            amqpUrl = gateway.amqpUrl();
            new AmqpQueue(amqpUrl, "mqtt-sn", "outage.#", queueName).disconnect();
            assertThat(device.exchange(message("04 04 01 00 3c", "outage"))).isEqualTo("03 05 00");
            assertThat(device.exchange(message("0a 00 00 00 01", "outage/readings"))).isEqualTo("07 0b 00 01 00 01 00");

            CompletableFuture<Void> outage = null;
            int sinceRestart = 0;
            for (int msgId = 1; msgId < 60_000 && sinceRestart < 200; msgId++) {
                String payload = "reading-" + msgId;
                byte[] datagram = message(String.format("0c 20 00 01 %02x %02x", msgId >> 8, msgId & 0xff), payload);
                device.send(datagram);
                String reply = device.receive(1000);
                if (reply == null) {
                    unanswered++;
                } else if (reply.endsWith(ACCEPTED)) {
                    acked.add(payload);
                    if (outage != null && outage.isDone()) {
                        sinceRestart++;
                    }
                } else {
                    congestion++;
                }
                if (msgId == 300) {
                    outage = CompletableFuture.runAsync(() -> {
                        run(rabbitmqctl + " stop_app");
                        run(rabbitmqctl + " start_app");
                    });
                }
            }
            assertThat(outage).isNotNull();
            outage.join();
        }
        assertThat(congestion + unanswered).as("readings not accepted during the outage").isPositive();

        Set<String> queued = new HashSet<>();
        try (AmqpQueue queue = reopen(amqpUrl, queueName)) {
            for (Delivery message = queue.next(Duration.ofSeconds(2)); message != null; message = queue.next(Duration.ofSeconds(1))) {
                queued.add(new String(message.getBody(), StandardCharsets.US_ASCII));
            }
        }
        assertThat(queued).as("every reading answered rc 0 is in the queue").containsAll(acked);
    }

    private static AmqpQueue reopen(String amqpUrl, String queueName) throws Exception {
        return new AmqpQueue(amqpUrl, "mqtt-sn", "outage.#", queueName, false);
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
