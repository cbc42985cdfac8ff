package org.iotgateway.channels;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import org.apache.camel.component.master.MasterConsumer;
import org.iotgateway.ValkeyUri;
import org.iotgateway.testing.CapturedLogs;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.SentinelSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The worker between a real Django Channels app (Debian's channels and channels_redis, src/test/resources/channels/app.py),
 * real Redis and real Mosquitto, which the tests publish to and read with mosquitto_pub and mosquitto_sub.
 */
class ChannelsWorkerTest {

    private static String mqttHost;
    private static String mqttPort;

    @BeforeAll
    static void needs() {
        String mqtt = System.getenv("IT_MQTT_URL");
        assumeTrue(mqtt != null && System.getenv("IT_VALKEY_URL") != null
                        && Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")) && Files.isExecutable(Path.of("/usr/bin/python3")),
                "needs Redis and Mosquitto (IT_VALKEY_URL, IT_MQTT_URL) and Debian's python3-django-channels, as .ci/run provides");
        String hostPort = mqtt.replaceFirst("^[a-z]+://", "");
        mqttHost = hostPort.substring(0, hostPort.lastIndexOf(':'));
        mqttPort = hostPort.substring(hostPort.lastIndexOf(':') + 1);
    }

    private static RunningGateway worker(String channel) throws Exception {
        return worker(channel, "RedisChannelLayer");
    }

    private static RunningGateway worker(String channel, String layer) throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of("channels.enabled", "true", "channels.channel-name", channel,
                "channels.layer", layer));
        RunningGateway gateway = RunningGateway.startOnly("channels", settings);
        gateway.awaitMqttReady("channelsMqtt");
        // ready: it leads (no other worker of its channel runs) and reads its channel
        await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
        return gateway;
    }

    private static ChannelsWorker channelsWorker(RunningGateway gateway) {
        return gateway.context().getRegistry().lookupByNameAndType("channelsWorker", ChannelsWorker.class);
    }

    private static void mosquittoPub(String topic, String payload, boolean retain) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("/usr/bin/mosquitto_pub", "-h", mqttHost, "-p", mqttPort,
                "-t", topic, "-m", payload, "-q", "1"));
        if (retain) {
            command.add("-r");
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(new String(process.getInputStream().readAllBytes())).isZero();
    }

    private static String mosquittoSubOne(String topic) throws Exception {
        Process process = new ProcessBuilder("/usr/bin/mosquitto_sub", "-h", mqttHost, "-p", mqttPort, "-t", topic,
                "-C", "1", "-W", "10").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        process.waitFor(15, TimeUnit.SECONDS);
        return output;
    }

    private static String subscribe(String topic, String group) {
        return "{\"type\":\"mqtt_subscribe\",\"topic\":\"" + topic + "\",\"group\":\"" + group + "\"}";
    }

    private static boolean leads(RunningGateway worker) {
        return ((MasterConsumer) worker.context().getRoute("channels-request").getConsumer()).isMaster();
    }

    @Test
    void should_handle_each_message_once_with_two_workers_and_carry_on_through_the_other_when_the_leader_stops() throws Exception {
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        Map<String, String> settings = Map.of("channels.enabled", "true", "channels.channel-name", channel);
        RunningGateway first = RunningGateway.startOnly("channels", settings);
        try (RunningGateway second = RunningGateway.startOnly("channels", settings);
             DjangoChannelsApp app = new DjangoChannelsApp(first.property("channels.redis-url"));
             MqttTestClient watcher = new MqttTestClient(System.getenv("IT_MQTT_URL"))) {
            await().atMost(10, TimeUnit.SECONDS).alias("one of the two leads").until(() -> leads(first) != leads(second));
            RunningGateway leader = leads(first) ? first : second;
            RunningGateway standby = leader == first ? second : first;
            await().atMost(10, TimeUnit.SECONDS).alias("both ready: one leads, one stands by").until(() ->
                    leader.readiness().startsWith("{\"status\":\"UP\"") && standby.readiness().startsWith("{\"status\":\"UP\""));
            app.join("room" + id);
            app.send(channel, subscribe("multi/" + id + "/#", "room" + id));
            await().atMost(10, TimeUnit.SECONDS).until(() -> !channelsWorker(leader).subscriptions().isEmpty());
            assertThat(channelsWorker(standby).subscriptions()).as("the standby subscribes nothing").isEmpty();

            for (int i = 0; i < 5; i++) {
                mosquittoPub("multi/" + id + "/in", "m" + i, false);
            }
            for (int i = 0; i < 5; i++) {
                assertThat(app.next(10)).as("MQTT message " + i).contains("\"payload\": \"m" + i + "\"");
            }
            assertThat(app.next(2)).as("each MQTT message once").isNull();

            BlockingQueue<MqttTestClient.Received> published = watcher.subscribe("multi-out/" + id);
            for (int i = 0; i < 5; i++) {
                app.send(channel, "{\"type\":\"mqtt.publish\",\"publish\":{\"topic\":\"multi-out/" + id + "\",\"payload\":\"p" + i
                        + "\",\"qos\":1,\"retain\":false}}");
            }
            for (int i = 0; i < 5; i++) {
                assertThat(published.poll(10, TimeUnit.SECONDS)).as("Channels message " + i).isNotNull();
            }
            assertThat(published.poll(2, TimeUnit.SECONDS)).as("each Channels message once").isNull();

            long stopped = System.nanoTime();
            leader.close();
            await().atMost(10, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(50)).until(() -> leads(standby));
            System.out.printf("Channels workers: the standby led %d ms after the leader stopped%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped));
            await().atMost(10, TimeUnit.SECONDS).until(() -> !channelsWorker(standby).subscriptions().isEmpty());
            mosquittoPub("multi/" + id + "/in", "after", false);
            assertThat(app.next(10)).as("through the new leader").contains("\"payload\": \"after\"");
            assertThat(app.next(2)).isNull();
        } finally {
            first.close();
        }
    }

    @Test
    void should_share_the_layer_with_the_app_through_redis_sentinel_in_channels_redis_own_form_and_follow_a_failover()
            throws Exception {
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        try (SentinelSet layer = new SentinelSet("channels", Path.of("target", "channels-sentinel"))) {
            // the hosts entry of the app's CHANNEL_LAYERS, given to the worker as it is
            Map<String, String> settings = Map.of("channels.enabled", "true", "channels.channel-name", channel,
                    "channels.redis-url", layer.channelsRedisHostsEntry());
            try (RunningGateway gateway = RunningGateway.startOnly("channels", settings);
                 DjangoChannelsApp app = new DjangoChannelsApp(layer.channelsRedisHostsEntry())) {
                gateway.awaitMqttReady("channelsMqtt");
                app.join("room" + id);
                app.send(channel, subscribe("sentinel/" + id, "room" + id));
                await().atMost(10, TimeUnit.SECONDS).until(() -> !channelsWorker(gateway).subscriptions().isEmpty());
                mosquittoPub("sentinel/" + id, "before", false);
                assertThat(app.next(10)).contains("\"payload\": \"before\"");

                Duration failover = layer.killMaster();
                // the app's consumer dies with its connection (channels_redis 4.0.0 raises ConnectionError in receive): a
                // new one, as the app's server starts for its next client, asks the sentinels too
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));
                try (DjangoChannelsApp restarted = new DjangoChannelsApp(layer.channelsRedisHostsEntry())) {
                    restarted.join("after" + id);
                    restarted.send(channel, subscribe("sentinel/" + id + "/after", "after" + id));
                    await().atMost(20, TimeUnit.SECONDS).until(() -> channelsWorker(gateway).subscriptions().size() == 2);
                    mosquittoPub("sentinel/" + id + "/after", "after", false);
                    assertThat(restarted.next(10)).contains("\"payload\": \"after\"");
                }
                assertThat(layer.replica().cli("smembers", "asgi" + channel + "$subscriptions")).as("written to the new master")
                        .contains("after" + id + " sentinel/" + id + "/after");
                System.out.printf("Channels layer failover: replica promoted %d ms after the master was killed%n", failover.toMillis());
            }
        }
    }

    @Test
    void should_deliver_to_a_subscribed_group_publish_for_it_and_stop_after_unsubscribe() throws Exception {
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        try (RunningGateway gateway = worker(channel); DjangoChannelsApp app = new DjangoChannelsApp(gateway.property("channels.redis-url"))) {
            app.join("room" + id);
            app.send(channel, subscribe("chat/" + id + "/#", "room" + id));
            await().atMost(10, TimeUnit.SECONDS).until(() -> channelsWorker(gateway).subscriptions()
                    .equals(Map.of("chat/" + id + "/#", List.of("room" + id))));

            mosquittoPub("chat/" + id + "/lobby", "23", false);
            assertThat(app.next(10)).isEqualTo("{\"message\": {\"payload\": 23, \"qos\": 1, \"retain\": false, \"topic\": \"chat/"
                    + id + "/lobby\"}, \"type\": \"mqtt.message\"}");
            mosquittoPub("chat/" + id + "/lobby", "hello", false);
            assertThat(app.next(10)).contains("\"payload\": \"hello\"");

            app.send(channel, "{\"type\":\"mqtt.publish\",\"publish\":{\"topic\":\"out/" + id + "\",\"payload\":{\"a\":1,\"b\":[true,null]}}}");
            // retain is true by default, so a subscriber that comes later still gets it
            assertThat(mosquittoSubOne("out/" + id)).isEqualTo("{\"a\": 1, \"b\": [true, null]}");

            app.send(channel, "{\"type\":\"mqtt_unsubscribe\",\"topic\":\"chat/" + id + "/#\",\"group\":\"room" + id + "\"}");
            await().atMost(10, TimeUnit.SECONDS).until(() -> channelsWorker(gateway).subscriptions().isEmpty());
            mosquittoPub("chat/" + id + "/lobby", "after", false);
            assertThat(app.next(2)).isNull();
        }
    }

    @Test
    void should_give_each_group_a_message_once_however_the_filters_overlap_with_mqtt_5() throws Exception {
        // Mosquitto sends an MQTT 5 client one copy per matching subscription
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        try (RunningGateway gateway = worker(channel);
             DjangoChannelsApp both = new DjangoChannelsApp(gateway.property("channels.redis-url"));
             DjangoChannelsApp lobby = new DjangoChannelsApp(gateway.property("channels.redis-url"))) {
            both.join("both" + id);
            lobby.join("lobby" + id);
            both.send(channel, subscribe("overlap/" + id + "/#", "both" + id));
            both.send(channel, subscribe("overlap/" + id + "/lobby", "both" + id));
            lobby.send(channel, subscribe("overlap/" + id + "/lobby", "lobby" + id));
            await().atMost(10, TimeUnit.SECONDS).until(() -> channelsWorker(gateway).subscriptions().size() == 2
                    && channelsWorker(gateway).subscriptions().get("overlap/" + id + "/lobby").size() == 2);

            mosquittoPub("overlap/" + id + "/lobby", "once", false);
            assertThat(both.next(10)).contains("\"payload\": \"once\"");
            assertThat(lobby.next(10)).contains("\"payload\": \"once\"");
            assertThat(both.next(2)).as("a second copy for the group with both filters").isNull();
            assertThat(lobby.next(1)).as("a second copy for the group of the narrow filter").isNull();
        }
    }

    @Test
    void should_keep_subscriptions_across_a_restart() throws Exception {
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        String redis;
        try (RunningGateway first = worker(channel)) {
            redis = first.property("channels.redis-url");
            try (DjangoChannelsApp app = new DjangoChannelsApp(redis)) {
                app.join("g" + id);
                app.send(channel, subscribe("restart/" + id, "g" + id));
                await().atMost(10, TimeUnit.SECONDS).until(() -> !channelsWorker(first).subscriptions().isEmpty());
            }
        }
        try (RunningGateway second = worker(channel); DjangoChannelsApp app = new DjangoChannelsApp(redis)) {
            assertThat(channelsWorker(second).subscriptions()).isEqualTo(Map.of("restart/" + id, List.of("g" + id)));
            app.join("g" + id);
            mosquittoPub("restart/" + id, "{\"on\":true}", false);
            assertThat(app.next(10)).contains("\"payload\": {\"on\": true}");
        }
    }

    @Test
    void should_turn_ready_once_reading_its_channel_without_flapping_and_take_a_subscribe_sent_right_then() throws Exception {
        // the pub/sub layer keeps nothing: a message sent before the worker listens is lost
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        int managementPort = RunningGateway.freeTcpPort();
        List<String> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean watching = new AtomicBoolean(true);
        Thread watcher = new Thread(() -> {
            while (watching.get()) {
                try {
                    String status = RunningGateway.readiness(managementPort).startsWith("{\"status\":\"UP\"") ? "UP" : "DOWN";
                    if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(status)) {
                        seen.add(status);
                    }
                    Thread.sleep(10);
                } catch (IOException notListeningYet) {
                    // the management port opens with the context
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "readiness-watcher");
        watcher.start();
        try (DjangoChannelsApp app = new DjangoChannelsApp(System.getenv("IT_VALKEY_URL"),
                     "channels_redis.pubsub.RedisPubSubChannelLayer");
             RunningGateway gateway = RunningGateway.startOnly("channels", Map.of("channels.enabled", "true",
                     "channels.channel-name", channel, "channels.layer", "RedisPubSubChannelLayer",
                     "gateway.management-port", Integer.toString(managementPort)))) {
            await().atMost(30, TimeUnit.SECONDS).until(() -> seen.contains("UP"));
            app.join("ready" + id);
            app.send(channel, subscribe("ready/" + id, "ready" + id));
            await().atMost(10, TimeUnit.SECONDS).until(() -> !channelsWorker(gateway).subscriptions().isEmpty());
            mosquittoPub("ready/" + id, "first", false);
            assertThat(app.next(10)).contains("\"payload\": \"first\"");
        } finally {
            watching.set(false);
            watcher.join();
        }
        assertThat(seen).as("readiness from the management port's first answer").startsWith("DOWN", "UP");
        assertThat(seen.subList(0, seen.lastIndexOf("UP") + 1)).as("no flap before the stop").containsExactly("DOWN", "UP");
    }

    @Test
    void should_give_a_subscribing_group_the_retained_state_once() throws Exception {
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        mosquittoPub("state/" + id + "/lamp", "on", true);
        try (RunningGateway gateway = worker(channel);
             DjangoChannelsApp first = new DjangoChannelsApp(gateway.property("channels.redis-url"));
             DjangoChannelsApp second = new DjangoChannelsApp(gateway.property("channels.redis-url"))) {
            first.join("a" + id);
            first.send(channel, subscribe("state/" + id + "/#", "a" + id));
            assertThat(first.next(10)).contains("\"payload\": \"on\"", "\"retain\": true");
            second.join("b" + id);
            second.send(channel, subscribe("state/" + id + "/#", "b" + id));
            assertThat(second.next(10)).contains("\"payload\": \"on\"", "\"retain\": true");
            // the first group already had it: the replay for the second is not sent to it again
            assertThat(first.next(2)).isNull();
        } finally {
            mosquittoPub("state/" + id + "/lamp", "", true);
        }
    }

    @Test
    void should_work_the_same_with_the_pubsub_channel_layer() throws Exception {
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        try (RunningGateway gateway = worker(channel, "RedisPubSubChannelLayer");
             DjangoChannelsApp app = new DjangoChannelsApp(gateway.property("channels.redis-url"), "channels_redis.pubsub.RedisPubSubChannelLayer")) {
            app.join("room" + id);
            // Pub/Sub keeps nothing: until the worker listens, what the app sends is gone, so it asks again
            await().atMost(10, TimeUnit.SECONDS).pollInterval(500, TimeUnit.MILLISECONDS).until(() -> {
                app.send(channel, subscribe("ps/" + id, "room" + id));
                return !channelsWorker(gateway).subscriptions().isEmpty();
            });
            mosquittoPub("ps/" + id, "[1,2]", false);
            assertThat(app.next(10)).isEqualTo("{\"message\": {\"payload\": [1, 2], \"qos\": 1, \"retain\": false, \"topic\": \"ps/"
                    + id + "\"}, \"type\": \"mqtt.message\"}");
        }
    }

    @Test
    void should_fall_back_to_mqtt_3_1_1_with_a_broker_that_has_no_mqtt_5() throws Exception {
        String mqtt311 = System.getenv("IT_MQTT311_URL");
        assumeTrue(mqtt311 != null, "needs a broker without MQTT 5 (IT_MQTT311_URL: RabbitMQ 3.10's MQTT plugin, started by .ci/run)");
        String port = mqtt311.substring(mqtt311.lastIndexOf(':') + 1);
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        try (CapturedLogs logs = new CapturedLogs();
             RunningGateway gateway = RunningGateway.startOnly("channels", Map.of("channels.enabled", "true",
                     "channels.channel-name", channel, "channels.mqtt-url", mqtt311));
             DjangoChannelsApp app = new DjangoChannelsApp(gateway.property("channels.redis-url"))) {
            gateway.awaitMqttReady("channelsMqtt");
            assertThat(logs.text()).contains("refused MQTT 5", "connecting with MQTT 3.1.1", "with MQTT 3.1.1");
            app.join("old" + id);
            app.send(channel, subscribe("legacy/" + id, "old" + id));
            await().atMost(10, TimeUnit.SECONDS).until(() -> !channelsWorker(gateway).subscriptions().isEmpty());
            Process publish = new ProcessBuilder("/usr/bin/mosquitto_pub", "-V", "mqttv311", "-h", "127.0.0.1", "-p", port,
                    "-t", "legacy/" + id, "-m", "42", "-q", "1").redirectErrorStream(true).start();
            assertThat(publish.waitFor(10, TimeUnit.SECONDS)).isTrue();
            assertThat(app.next(10)).isEqualTo("{\"message\": {\"payload\": 42, \"qos\": 1, \"retain\": false, \"topic\": \"legacy/"
                    + id + "\"}, \"type\": \"mqtt.message\"}");
        }
    }

    @Test
    void should_survive_a_fuzzing_run_of_channel_messages_counting_each_it_refused() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        java.util.Random random = new java.util.Random(seed);
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        int messages = 600;
        java.util.Set<String> retainedBefore = retainedTopics();
        try (RunningGateway gateway = worker(channel); DjangoChannelsApp app = new DjangoChannelsApp(gateway.property("channels.redis-url"))) {
            List<byte[]> valid = List.of(
                    MsgPack.encode(Map.of("type", "mqtt_subscribe", "topic", "fuzz/" + id + "/+", "group", "fuzz" + id)),
                    MsgPack.encode(Map.of("type", "mqtt_publish", "publish", Map.of("topic", "fuzz/" + id + "/out", "payload", "x", "qos", 1))),
                    MsgPack.encode(Map.of("type", "mqtt_unsubscribe", "topic", "fuzz/" + id + "/+", "group", "fuzz" + id)));
            RedisClient client = RedisClient.create(ValkeyUri.parse(gateway.property("channels.redis-url")));
            try (StatefulRedisConnection<byte[], byte[]> redis = client.connect(ByteArrayCodec.INSTANCE)) {
                byte[] key = ("asgi" + channel).getBytes(StandardCharsets.UTF_8);
                for (int i = 0; i < messages; i++) {
                    byte[] body = random.nextInt(20) == 0 ? hostileMsgPack(random) : valid.get(random.nextInt(valid.size())).clone();
                    for (int flips = random.nextInt(3); flips > 0 && body.length > 0; flips--) {
                        body[random.nextInt(body.length)] ^= (byte) (1 << random.nextInt(8));
                    }
                    if (random.nextInt(8) == 0) {
                        body = java.util.Arrays.copyOf(body, random.nextInt(body.length + 1));
                    }
                    byte[] member = new byte[12 + body.length];
                    random.nextBytes(member);
                    System.arraycopy(body, 0, member, 12, body.length);
                    redis.sync().zadd(key, i, member);
                }
            } finally {
                client.shutdown();
            }
            await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.metrics(),
                    metrics -> metrics.matches("(?s).*channels_messages_rejected_total [1-9].*"));
            app.join("ok" + id);
            app.send(channel, subscribe("fine/" + id, "ok" + id));
            await().atMost(10, TimeUnit.SECONDS).until(() -> channelsWorker(gateway).subscriptions().containsKey("fine/" + id));
            mosquittoPub("fine/" + id, "1", false);
            assertThat(app.next(10)).as("the worker still serves its channel (seed " + seed + ")").contains("\"payload\": 1");
            java.util.regex.Matcher rejected = java.util.regex.Pattern.compile("channels_messages_rejected_total ([0-9.]+)")
                    .matcher(gateway.metrics());
            assertThat(rejected.find()).isTrue();
            System.out.printf("Channels fuzzing (seed %d): %d messages written to the channel, %s refused with the reason%n",
                    seed, messages, rejected.group(1));
        } finally {
            // a mutated publish may have set retain: the broker is shared with the tests that follow
            for (String topic : retainedTopics()) {
                if (!retainedBefore.contains(topic)) {
                    new ProcessBuilder("/usr/bin/mosquitto_pub", "-h", mqttHost, "-p", mqttPort, "-t", topic, "-r", "-n")
                            .start().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** The topics the broker holds a retained message for. */
    private static java.util.Set<String> retainedTopics() throws Exception {
        Process process = new ProcessBuilder("/usr/bin/mosquitto_sub", "-h", mqttHost, "-p", mqttPort, "-t", "#",
                "--retained-only", "-W", "1", "-F", "%t").start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(5, TimeUnit.SECONDS);
        return new java.util.HashSet<>(output.lines().filter(line -> !line.isEmpty()).toList());
    }

    /** msgpack meant to cost memory or stack: lengths of 2^31, deep nesting, huge maps of nothing. */
    private static byte[] hostileMsgPack(java.util.Random random) {
        String[] hostile = {"c67fffffff00", "db7fffffff61", "dd7fffffff", "df7fffffff", "91".repeat(100_000) + "c0",
                "81a474797065" + "91".repeat(10_000) + "c0"};
        return java.util.HexFormat.of().parseHex(hostile[random.nextInt(hostile.length)]);
    }

    @Test
    void should_skip_bad_messages_with_the_reason_and_keep_working() throws Exception {
        String id = Long.toString(System.nanoTime());
        String channel = "mqtt" + id;
        try (RunningGateway gateway = worker(channel); DjangoChannelsApp app = new DjangoChannelsApp(gateway.property("channels.redis-url"))) {
            app.send(channel, "{\"type\":\"mqtt_teleport\"}");
            app.send(channel, "{\"type\":\"mqtt_subscribe\",\"group\":\"g\"}");
            app.send(channel, "{\"type\":\"mqtt_publish\",\"publish\":{\"topic\":\"a/#\"}}");
            RedisClient client = RedisClient.create(ValkeyUri.parse(gateway.property("channels.redis-url")));
            try (StatefulRedisConnection<byte[], byte[]> redis = client.connect(ByteArrayCodec.INSTANCE)) {
                redis.sync().zadd(("asgi" + channel).getBytes(StandardCharsets.UTF_8), 1.0,
                        "0123456789ab\u00c1not msgpack".getBytes(StandardCharsets.ISO_8859_1));
            } finally {
                client.shutdown();
            }
            await().atMost(10, TimeUnit.SECONDS).until(() -> gateway.metrics(),
                    metrics -> metrics.contains("channels_messages_rejected_total 4.0"));
            app.join("ok" + id);
            app.send(channel, subscribe("fine/" + id, "ok" + id));
            await().atMost(10, TimeUnit.SECONDS).until(() -> !channelsWorker(gateway).subscriptions().isEmpty());
            mosquittoPub("fine/" + id, "1", false);
            assertThat(app.next(10)).contains("\"payload\": 1");
        }
    }
}
