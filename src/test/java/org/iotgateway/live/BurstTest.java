package org.iotgateway.live;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StallingProxy;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With the default settings (QoS 0 subscriptions), a burst through a stock broker reaches the feed whole even while
 * the gateway falls behind for a moment (a relay holds back what the broker sends it): at QoS 1 Mosquitto keeps at
 * most 20 messages in flight and 1,000 queued per subscriber and drops the rest unseen, while at QoS 0 what the
 * gateway has not read waits in TCP's buffers.
 */
class BurstTest {

    private static final int MESSAGES = 20_000;

    @Test
    void should_take_a_burst_of_20000_messages_at_4000_per_second_whole_from_a_stock_broker_while_the_gateway_is_behind()
            throws Exception {
        String topic = "burst-" + UUID.randomUUID().toString().substring(0, 8) + "/reading";
        try (StallingProxy relay = StallingProxy.toMqttBroker();
             RunningGateway gateway = RunningGateway.startOnly("live", Map.of("live.mqtt-url", relay.url(),
                     "live.topics", topic));
             MqttTestClient sensor = new MqttTestClient(relay.brokerUrl())) {
            gateway.awaitMqttReady("liveMqtt");
            double before = received(gateway);
            long start = System.nanoTime();
            for (int i = 1; i <= MESSAGES; i++) {
                if (i == 1_000) {
                    relay.stallDelivery();
                } else if (i == 5_000) {
                    relay.resume();
                }
                sensor.publish(topic, Integer.toString(i).getBytes(StandardCharsets.UTF_8), 1, false);
                // 4,000 a second: every 40th message waits until its time has come
                long due = start + TimeUnit.MILLISECONDS.toNanos(i / 4L);
                if (i % 40 == 0 && due > System.nanoTime()) {
                    TimeUnit.NANOSECONDS.sleep(due - System.nanoTime());
                }
            }
            await().atMost(30, TimeUnit.SECONDS).untilAsserted(() -> assertThat(received(gateway) - before).isEqualTo(MESSAGES));
        }
    }

    private static double received(RunningGateway gateway) throws Exception {
        Matcher counter = Pattern.compile("(?m)^live_messages_received_total\\{[^}]*} (\\S+)$").matcher(gateway.metrics());
        return counter.find() ? Double.parseDouble(counter.group(1)) : 0;
    }
}
