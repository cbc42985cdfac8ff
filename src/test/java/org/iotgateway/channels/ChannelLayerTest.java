package org.iotgateway.channels;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The gateway's channel layer and the real channels_redis 4.x of a Django app, on one real Redis. */
class ChannelLayerTest {

    private static String redisUrl;
    private static RedisChannelLayer layer;

    @BeforeAll
    static void connect() {
        redisUrl = System.getenv("IT_VALKEY_URL");
        assumeTrue(redisUrl != null && Files.isExecutable(Path.of("/usr/bin/python3")),
                "needs a Redis (IT_VALKEY_URL, set by .ci/run) and Debian's python3-channels-redis");
        layer = new RedisChannelLayer(redisUrl, "asgi", 60, 86400, 100);
    }

    @AfterAll
    static void close() {
        if (layer != null) {
            layer.close();
        }
    }

    /** channels_redis wants redis://; the gateway's settings say valkey:// too. */
    static String pythonUrl() {
        return redisUrl.replaceFirst("^valkey", "redis");
    }

    static Process python(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/python3",
                Path.of("src/test/resources/channels/layer.py").toString(), pythonUrl()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }

    @Test
    void should_receive_what_a_django_app_sends_and_keep_it_in_flight_until_done() throws Exception {
        String channel = "mqtt-" + System.nanoTime();
        Process send = python("send", channel, "{\"type\":\"mqtt_subscribe\",\"topic\":\"chat/lobby\",\"group\":\"mqttgroup\"}");
        assertThat(send.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(send.exitValue()).isZero();
        ChannelLayer.Received received = layer.receive(channel, 5);
        assertThat(received.message()).isEqualTo(Map.of("type", "mqtt_subscribe", "topic", "chat/lobby", "group", "mqttgroup"));
        // a receiver that stopped before it was done gets the message again
        ChannelLayer.Received again = layer.receive(channel, 1);
        assertThat(again.message()).isEqualTo(received.message());
        layer.done(channel, again.member());
        assertThat(layer.receive(channel, 1)).isNull();
    }

    @Test
    void should_group_send_so_that_a_django_consumer_receives_it() throws Exception {
        String group = "g" + System.nanoTime();
        Process consumer = python("join", group, "10");
        BufferedReader lines = new BufferedReader(new InputStreamReader(consumer.getInputStream(), StandardCharsets.UTF_8));
        assertThat(lines.readLine()).startsWith("joined specific.");
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("type", "mqtt.message");
        message.put("message", Map.of("topic", "chat/lobby", "payload", 23L, "qos", 1L, "retain", false));
        assertThat(layer.groupSend(group, message).toCompletableFuture().get(10, TimeUnit.SECONDS)).isZero();
        assertThat(lines.readLine()).isEqualTo("{\"message\": {\"payload\": 23, \"qos\": 1, \"retain\": false, \"topic\": \"chat/lobby\"}, "
                + "\"type\": \"mqtt.message\"}");
        consumer.destroy();
    }
}
