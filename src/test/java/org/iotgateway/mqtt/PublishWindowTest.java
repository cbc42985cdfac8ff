package org.iotgateway.mqtt;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A burst of QoS 1 publishes on one connection, many more than the broker's receive maximum (Mosquitto grants 20): each
 * reaches the broker, in order, where Paho alone refuses those beyond the window ("Too many publishes in progress"), as
 * the oneM2M binding's answers to a burst of requests found.
 */
class PublishWindowTest {

    @Test
    void should_publish_a_burst_beyond_the_brokers_receive_maximum_in_order_and_lose_none() throws Exception {
        try (RunningGateway gateway = RunningGateway.startOnly("live", Map.of());
             MqttTestClient subscriber = new MqttTestClient(gateway.property("live.mqtt-url"))) {
            gateway.awaitMqttReady("liveMqtt");
            MqttConnection connection = gateway.context().getRegistry().lookupByNameAndType("liveMqtt", MqttConnection.class);
            String topic = "window/" + System.nanoTime();
            BlockingQueue<MqttTestClient.Received> received = subscriber.subscribe(topic);
            List<CompletableFuture<Void>> published = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                published.add(connection.publish(topic, Integer.toString(i).getBytes(StandardCharsets.UTF_8), 1, false));
            }
            CompletableFuture.allOf(published.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                MqttTestClient.Received message = received.poll(10, TimeUnit.SECONDS);
                assertThat(message).as("message " + i).isNotNull();
                order.add(Integer.parseInt(message.text()));
            }
            Set<Integer> distinct = new HashSet<>(order);
            assertThat(distinct).hasSize(500);
            assertThat(order).isSorted();
        }
    }
}
