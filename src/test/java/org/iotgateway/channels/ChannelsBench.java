package org.iotgateway.channels;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.iotgateway.GatewayMeters;
import org.iotgateway.ValkeyUri;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;

/**
 * The Channels worker's benchmark (run by bench/channels, not by the tests): MESSAGES MQTT messages published as fast as
 * QoS 0 allows to a topic GROUPS groups subscribed to, each group with one Channels channel; how fast the worker turns
 * them into group sends, against the baseline of a plain MQTT subscriber receiving the same messages from the same
 * broker. Needs IT_MQTT_URL and IT_VALKEY_URL. Prints key=value lines. Arguments: messages groups rounds.
 */
public final class ChannelsBench {

    private ChannelsBench() {
    }

    public static void main(String[] args) throws Exception {
        int messages = Integer.parseInt(args[0]);
        int groups = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        String mqttUrl = System.getenv("IT_MQTT_URL");
        String channel = "bench" + System.nanoTime();
        try (RunningGateway gateway = RunningGateway.startOnly("channels", Map.of("channels.enabled", "true",
                "channels.channel-name", channel, "channels.capacity", Integer.toString(messages * rounds * 2)));
             MqttTestClient publisher = new MqttTestClient(mqttUrl)) {
            gateway.awaitMqttReady("channelsMqtt");
                        RedisClient client = RedisClient.create(ValkeyUri.parse(gateway.property("channels.redis-url")));
            try (StatefulRedisConnection<String, String> redis = client.connect()) {
                ChannelsWorker worker = gateway.context().getRegistry().lookupByNameAndType("channelsWorker", ChannelsWorker.class);
                for (int group = 0; group < groups; group++) {
                    redis.sync().zadd("asgi:group:bench" + group, System.currentTimeMillis() / 1000.0, "specific." + channel + "!c" + group);
                    worker.subscribe(Map.of("type", "mqtt.subscribe", "topic", "bench/" + channel + "/#", "group", "bench" + group));
                }
                MeterRegistry registry = GatewayMeters.registry(gateway.context());
                Counter sent = registry.find("channels.events.sent").counter();
                byte[] payload = "{\"temperature\": 21.5, \"unit\": \"C\"}".getBytes(StandardCharsets.UTF_8);
                for (int round = 1; round <= rounds; round++) {
                    System.out.printf("baseline_%d_messages_per_second=%.0f%n", round, baseline(mqttUrl, publisher, channel, payload, messages));
                    double before = sent.count();
                    long start = System.nanoTime();
                    for (int i = 0; i < messages; i++) {
                        publisher.publish("bench/" + channel + "/t", payload, 0, false);
                    }
                    long deadline = System.currentTimeMillis() + 120_000;
                    while (sent.count() - before < (double) messages * groups && System.currentTimeMillis() < deadline) {
                        Thread.sleep(5);
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    double delivered = (sent.count() - before) / groups;
                    System.out.printf("worker_%d_messages_per_second=%.0f%nworker_%d_group_sends_per_second=%.0f%nworker_%d_lost=%.0f%n",
                            round, delivered / seconds, round, delivered * groups / seconds, round, messages - delivered);
                }
            } finally {
                client.shutdown();
            }
        }
    }

    /** A plain subscriber of the same broker receiving the same burst: what the broker delivers on this machine. */
    private static double baseline(String mqttUrl, MqttTestClient publisher, String channel, byte[] payload, int messages) throws Exception {
        MqttClient subscriber = new MqttClient(mqttUrl, "bench-baseline-" + System.nanoTime(), new MemoryPersistence());
        subscriber.connect(new MqttConnectionOptions());
        CountDownLatch received = new CountDownLatch(messages);
        subscriber.subscribe(new MqttSubscription[] {new MqttSubscription("baseline/" + channel, 0)},
                new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {(topic, message) -> received.countDown()});
        long start = System.nanoTime();
        for (int i = 0; i < messages; i++) {
            publisher.publish("baseline/" + channel, payload, 0, false);
        }
        received.await(120, TimeUnit.SECONDS);
        double rate = (messages - received.getCount()) / ((System.nanoTime() - start) / 1e9);
        subscriber.disconnect();
        subscriber.close();
        return rate;
    }
}
