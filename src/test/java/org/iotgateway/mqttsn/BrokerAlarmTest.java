package org.iotgateway.mqttsn;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.Delivery;
import org.awaitility.Awaitility;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.iotgateway.testing.Vectors.message;

/**
 * RabbitMQ raises a memory alarm and blocks publishers: readiness goes DOWN at once, a reading answered congestion
 * never reaches RabbitMQ afterwards, and a reading RabbitMQ took before it blocked is answered when it confirms it,
 * its retries meanwhile not published again. Needs a RabbitMQ whose alarm the test may set: CI sets IT_RABBITMQCTL.
 */
class BrokerAlarmTest {

    private static String rabbitmqctl;

    @BeforeAll
    static void needsRabbitmqctl() {
        rabbitmqctl = System.getenv("IT_RABBITMQCTL");
        assumeTrue(rabbitmqctl != null, "IT_RABBITMQCTL is not set: no RabbitMQ whose alarm this test may set");
    }

    @Test
    void should_turn_readiness_down_within_seconds_of_a_memory_alarm_with_no_reading_sent() throws Exception {
        try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of())) {
            Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
            long start = System.nanoTime();
            memoryAlarm(true);
            try {
                Awaitility.await().atMost(5, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(100))
                        .until(() -> gateway.readiness().contains("blocked"));
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
                assertThat(gateway.readiness()).startsWith("{\"status\":\"DOWN\"").contains("low on memory");
            } finally {
                memoryAlarm(false);
            }
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
        }
    }

    @Test
    void should_never_deliver_a_reading_answered_congestion_and_answer_one_taken_before_the_alarm_once_confirmed() throws Exception {
        // no probe: the first reading after the alarm is the publish that makes RabbitMQ block the connection; and a
        // confirm timeout shorter than the alarm, which must not answer that reading congestion while RabbitMQ holds it
        try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of(
                     "mqttsn.use-port-number-in-client-store", "true",
                     "mqttsn.amqp-alarm-probe-millis", "0",
                     "mqttsn.amqp-confirm-timeout-millis", "2000"));
             AmqpQueue readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "alarm.#", "alarm-" + UUID.randomUUID());
             UdpClient meter = new UdpClient(gateway.udpPort())) {
            Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
            assertThat(meter.exchange(message("04 04 01 00 3c", "alarm-meter"))).isEqualTo("03 05 00");
            assertThat(meter.exchange(message("0a 00 00 00 01", "alarm/readings"))).isEqualTo("07 0b 00 01 00 01 00");

            memoryAlarm(true);
            try {
                meter.send(message("0c 20 00 01 00 01", "taken before the block"));
                assertThat(meter.receive(1000)).as("no answer while RabbitMQ holds it unconfirmed").isNull();
                Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("blocked"));
                meter.send(message("0c a0 00 01 00 01", "taken before the block"));
                assertThat(meter.receive(3000)).as("the retry waits for the first's answer, past the confirm timeout").isNull();
                assertThat(meter.exchange(message("0c 20 00 01 00 02", "refused in the alarm")))
                        .as("congestion at once: not handed to RabbitMQ").isEqualTo("07 0d 00 01 00 02 01");
            } finally {
                memoryAlarm(false);
            }
            assertThat(meter.receive(10_000)).as("answered once RabbitMQ confirms it").isEqualTo("07 0d 00 01 00 01 00");
            assertThat(meter.receive(500)).as("one answer for the reading and its retry").isNull();
            assertThat(meter.exchange(message("0c a0 00 01 00 02", "refused in the alarm"))).isEqualTo("07 0d 00 01 00 02 00");

            List<String> inRabbitMq = new ArrayList<>();
            List<String> messageIds = new ArrayList<>();
            for (Delivery delivery = readings.next(Duration.ofSeconds(5)); delivery != null; delivery = readings.next(Duration.ofSeconds(1))) {
                inRabbitMq.add(new String(delivery.getBody(), StandardCharsets.UTF_8));
                messageIds.add(delivery.getProperties().getMessageId());
            }
            assertThat(inRabbitMq).as("each reading once: the retry was not published, the refused one only when sent again")
                    .containsExactly("taken before the block", "refused in the alarm");
            assertThat(messageIds).containsExactly("alarm-meter:1", "alarm-meter:2");
            assertThat(gateway.metrics()).containsPattern("mqttsn_retries_held_total\\{[^}]*} 1\\.0");
        }
    }

    /** Sets or clears RabbitMQ's memory alarm by its high watermark (0.4 is RabbitMQ's default). */
    private static void memoryAlarm(boolean raised) throws IOException, InterruptedException {
        Process process = new ProcessBuilder("sh", "-c", rabbitmqctl + " set_vm_memory_high_watermark " + (raised ? "0.00001" : "0.4"))
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(output).isZero();
    }
}
