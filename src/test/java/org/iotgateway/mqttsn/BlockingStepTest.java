package org.iotgateway.mqttsn;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.apache.camel.builder.AdviceWith;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.iotgateway.testing.Vectors.message;

/**
 * An operator's step that waits (an HTTP call, a database) on a readings route given threads of its own
 * (mqttsn.route-threads, by default): one device's reading held in that step does not hold up another device's PUBACK.
 */
class BlockingStepTest {

    static RunningGateway gateway;
    static final CountDownLatch release = new CountDownLatch(1);

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.startOnly("mqttsn", Map.of());
        AdviceWith.adviceWith(gateway.context(), "mqttsn-readings-to-rabbitmq", route -> route.weaveAddFirst().process(exchange -> {
            if ("slow/meter".equals(exchange.getMessage().getHeader(MqttSnConstants.TOPIC_NAME))) {
                release.await(30, TimeUnit.SECONDS);
            }
        }));
        gateway.context().getRouteController().startRoute("mqttsn-readings-to-rabbitmq");
        // the advised route has a publisher of its own: ready once it is connected to RabbitMQ
        await().atMost(Duration.ofSeconds(20)).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
    }

    @AfterAll
    static void stop() {
        release.countDown();
        gateway.close();
    }

    @Test
    void should_answer_other_devices_while_a_step_waits_for_one() throws Exception {
        try (UdpClient slow = new UdpClient(gateway.udpPort()); UdpClient other = new UdpClient(gateway.udpPort())) {
            assertThat(slow.exchange(message("04 04 01 00 3c", "slow-meter"))).isEqualTo("03 05 00");
            assertThat(slow.exchange(message("0a 00 00 00 01", "slow/meter"))).isEqualTo("07 0b 00 01 00 01 00");
            assertThat(other.exchange(message("04 04 01 00 3c", "other-meter"))).isEqualTo("03 05 00");
            assertThat(other.exchange(message("0a 00 00 00 01", "other/meter"))).isEqualTo("07 0b 00 01 00 01 00");

            slow.send(message("0c 20 00 01 00 02", "held"));
            assertThat(other.exchange(message("0c 20 00 01 00 02", "not held"))).as("the other device's PUBACK")
                    .isEqualTo("07 0d 00 01 00 02 00");
            assertThat(slow.receive(200)).as("the held reading is not answered yet").isNull();
            release.countDown();
            assertThat(slow.receive(5000)).isEqualTo("07 0d 00 01 00 02 00");
        }
    }
}
