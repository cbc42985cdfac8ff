package org.iotgateway.mqttsn;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.message;

/** Stopping with readings in flight: they are carried to RabbitMQ and acknowledged before the socket closes. */
class GracefulStopTest {

    @Test
    void should_finish_readings_in_flight_and_ack_them_before_stopping() throws Exception {
        RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("gateway.routes-dir", "src/test/resources/slow-routes"));
        AmqpQueue readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "stop.#", "stop-" + UUID.randomUUID());
        try (UdpClient device = new UdpClient(gateway.udpPort())) {
            assertThat(device.exchange(message("04 04 01 00 3c", "stopper"))).isEqualTo("03 05 00");
            assertThat(device.exchange(message("0a 00 00 00 01", "stop/readings"))).isEqualTo("07 0b 00 01 00 01 00");
            for (int msgId = 1; msgId <= 5; msgId++) {
                device.send(message(String.format("0c 20 00 01 00 %02x", msgId), "reading-" + msgId));
            }
            // the five are inside the half-second step when the stop begins
            CompletableFuture<Duration> stop = CompletableFuture.supplyAsync(() -> {
                long stopping = System.nanoTime();
                gateway.close();
                return Duration.ofNanos(System.nanoTime() - stopping);
            }, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS));

            for (int i = 0; i < 5; i++) {
                assertThat(device.receive(5000)).as("PUBACK %d", i + 1).matches("07 0d 00 01 00 0[1-5] 00");
                assertThat(readings.next(Duration.ofSeconds(5))).as("reading %d in the queue", i + 1).isNotNull();
            }
            assertThat(stop.get(30, TimeUnit.SECONDS)).isLessThan(Duration.ofSeconds(25));
        } finally {
            readings.closeQuietly();
        }
    }
}
