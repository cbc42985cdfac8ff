package org.iotgateway.live;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import org.iotgateway.testing.Metrics;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The live feed against a real MQTT broker: what each browser receives, byte for byte, for every kind of payload and
 * topic; retained replay; filters; a burst with a stalled client.
 */
class LiveFeedTest {

    private static final Pattern TIMESTAMP = Pattern.compile("\"timestamp\":\"(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z)\"");

    private static RunningGateway gateway;
    private static MqttTestClient publisher;
    private static String prefix;

    /** One published message and the {@code "data"...} part of the JSON every client must receive for it. */
    record Vector(String name, String topic, byte[] payload, int qos, boolean retain, String expectedData) {
    }

    @BeforeAll
    static void startGateway() throws Exception {
        gateway = RunningGateway.startOnly("live", Map.of("live.topics", "#@2", "live.client-queue-size", "1000",
                "live.slow-client-timeout-seconds", "3", "live.retained-bytes-max", "4096"));
        gateway.awaitMqttReady("liveMqtt");
        publisher = new MqttTestClient(gateway.property("live.mqtt-url"));
        prefix = "it-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterAll
    static void stopGateway() throws Exception {
        publisher.close();
        gateway.close();
    }

    private static URI feed(String... filters) {
        StringBuilder uri = new StringBuilder("ws://127.0.0.1:" + gateway.property("live.port") + "/ws");
        for (int i = 0; i < filters.length; i++) {
            uri.append(i == 0 ? '?' : '&').append("filter=").append(URLEncoder.encode(filters[i], StandardCharsets.UTF_8));
        }
        return URI.create(uri.toString());
    }

    private static List<Vector> vectors(String base) {
        byte[] megabyte = "x".repeat(1024 * 1024).getBytes(StandardCharsets.US_ASCII);
        byte[] invalidUtf8 = {(byte) 0xC3, 0x28, (byte) 0xA0, (byte) 0xA1, (byte) 0xFF};
        return List.of(
                new Vector("JSON object", base + "/sensor/temperature/living-room",
                        utf8("{\"temperature\": 23.5, \"unit\": \"celsius\"}"), 1, false,
                        "\"data\":\"{\\\"temperature\\\": 23.5, \\\"unit\\\": \\\"celsius\\\"}\""),
                new Vector("JSON array", base + "/sensor/list", utf8("[1,2,3]"), 1, false, "\"data\":\"[1,2,3]\""),
                new Vector("plain text", base + "/text", utf8("Hello World"), 1, false, "\"data\":\"Hello World\""),
                new Vector("empty payload", base + "/empty", new byte[0], 1, false, "\"data\":\"\""),
                new Vector("number", base + "/number", utf8("23.5"), 1, false, "\"data\":\"23.5\""),
                new Vector("multibyte UTF-8", base + "/utf8", utf8("Grüße 温度 🌡"), 1, false, "\"data\":\"Grüße 温度 🌡\""),
                new Vector("invalid UTF-8", base + "/binary", invalidUtf8, 1, false,
                        "\"data\":\"" + Base64.getEncoder().encodeToString(invalidUtf8) + "\",\"encoding\":\"base64\""),
                new Vector("markup characters", base + "/markup", utf8("<&>"), 1, false, "\"data\":\"<&>\""),
                new Vector("control characters", base + "/control", utf8("a\"b\\c\nd\te\u0001"), 1, false,
                        "\"data\":\"a\\\"b\\\\c\\nd\\te\\u0001\""),
                new Vector("1 MB payload", base + "/large", megabyte, 1, false, "\"data\":\"" + "x".repeat(1024 * 1024) + "\""),
                new Vector("deep topic", base + "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t", utf8("deep"), 1, false,
                        "\"data\":\"deep\""),
                new Vector("unicode topic", base + "/capteurs/température/salle-à-manger/温度", utf8("21"), 1, false,
                        "\"data\":\"21\""),
                new Vector("QoS 0", base + "/qos/0", utf8("q0"), 0, false, "\"data\":\"q0\""),
                new Vector("QoS 2", base + "/qos/2", utf8("q2"), 2, false, "\"data\":\"q2\""),
                new Vector("retained", base + "/door/state", utf8("open"), 1, true, "\"data\":\"open\""));
    }

    private static String expectedJson(Vector vector, String timestamp, boolean retained) {
        String topic = vector.topic().replace("\"", "\\\"");
        return "{\"topic\":\"" + topic + "\"," + vector.expectedData() + ",\"timestamp\":\"" + timestamp
                + "\",\"qos\":" + vector.qos() + ",\"retained\":" + retained + "}";
    }

    private static String timestampOf(String json) {
        Matcher matcher = TIMESTAMP.matcher(json);
        assertThat(matcher.find()).as("RFC 3339 UTC timestamp in %s", abbreviate(json)).isTrue();
        return matcher.group(1);
    }

    @Test
    void should_send_every_vector_to_every_client_as_the_exact_spore_json_with_qos_and_retained() throws Exception {
        String base = prefix + "/vectors";
        List<Vector> vectors = vectors(base);
        try (WsClient first = WsClient.connect(feed(base + "/#")); WsClient second = WsClient.connect(feed(base + "/#"))) {
            awaitJoined(first, second);
            for (Vector vector : vectors) {
                publisher.publish(vector.topic(), vector.payload(), vector.qos(), vector.retain());
            }
            for (WsClient client : List.of(first, second)) {
                List<String> received = client.awaitMessages(vectors.size());
                assertThat(received).hasSize(vectors.size());
                // MQTT keeps the order per topic (and QoS), not across topics
                for (Vector vector : vectors) {
                    String json = received.stream().filter(message -> topicOf(message).equals(vector.topic()))
                            .findFirst().orElseThrow(() -> new AssertionError(vector.name() + ": nothing received"));
                    assertThat(json).as(vector.name()).isEqualTo(expectedJson(vector, timestampOf(json), vector.retain()));
                }
            }
        }
        publisher.publish(base + "/door/state", new byte[0], 1, true);
    }

    @Test
    void should_replay_the_retained_value_of_each_matching_topic_before_live_messages() throws Exception {
        String base = prefix + "/retained";
        publisher.publish(base + "/a", utf8("A1"), 1, true);
        publisher.publish(base + "/b", utf8("B1"), 1, true);
        publisher.publish(base + "/other/c", utf8("C1"), 1, true);
        publisher.publish(base + "/a", utf8("A2"), 1, true);
        try (WsClient watcher = WsClient.connect(feed(base + "/#"))) {
            awaitJoined(watcher);
            publisher.publish(base + "/marker", utf8("flushed"), 1, false);
            watcher.awaitMessages(1);
        }
        try (WsClient late = WsClient.connect(feed(base + "/+"))) {
            List<String> replay = late.awaitMessages(2);
            assertThat(replay).extracting(LiveFeedTest::dataOf).containsExactlyInAnyOrder("A2", "B1");
            assertThat(replay).allMatch(json -> json.contains("\"retained\":true"));
            publisher.publish(base + "/a", utf8("A3"), 1, false);
            assertThat(late.awaitMessages(3).get(2)).contains("\"data\":\"A3\"", "\"retained\":false");
            // clearing the retained value: later clients get nothing for the topic
            publisher.publish(base + "/b", new byte[0], 1, true);
            late.awaitMessages(4);
        }
        try (WsClient later = WsClient.connect(feed(base + "/b"))) {
            // the reply comes after any replay: it being the first message means nothing was replayed
            later.send("{\"subscribe\":[\"" + base + "/marker\"]}");
            assertThat(later.awaitMessages(1)).containsExactly("{\"subscribed\":[\"" + base + "/marker\"]}");
        }
        publisher.publish(base + "/a", new byte[0], 1, true);
        publisher.publish(base + "/other/c", new byte[0], 1, true);
    }

    @Test
    void should_replay_nothing_rather_than_a_stale_value_when_a_new_retained_value_does_not_fit() throws Exception {
        String topic = prefix + "/big/retained";
        try (WsClient live = WsClient.connect(feed(topic))) {
            awaitJoined(live);
            publisher.publish(topic, utf8("small"), 1, true);
            publisher.publish(topic, utf8("x".repeat(5000)), 1, true);
            // the gateway has both once they reach a browser
            live.awaitMessages(2);
        }
        try (WsClient watcher = WsClient.connect(feed(topic))) {
            // the reply comes after any replay, so everything before it is what was replayed
            watcher.send("{\"subscribe\":[\"" + prefix + "/big/marker\"]}");
            assertThat(watcher.awaitMessages(1)).containsExactly("{\"subscribed\":[\"" + prefix + "/big/marker\"]}");
            publisher.publish(topic, utf8("live"), 1, false);
            assertThat(dataOf(watcher.awaitMessages(2).get(1))).isEqualTo("live");
        }
        String small = prefix + "/small/retained";
        try (WsClient live = WsClient.connect(feed(small))) {
            awaitJoined(live);
            publisher.publish(small, utf8("kept"), 1, true);
            live.awaitMessages(1);
        }
        try (WsClient watcher = WsClient.connect(feed(small))) {
            assertThat(dataOf(watcher.awaitMessages(1).get(0))).isEqualTo("kept");
        }
        publisher.publish(small, new byte[0], 1, true);
        publisher.publish(topic, new byte[0], 1, true);
    }

    @Test
    void should_narrow_the_feed_to_query_filters_and_change_it_with_subscribe_and_unsubscribe() throws Exception {
        String base = prefix + "/filters";
        try (WsClient client = WsClient.connect(feed(base + "/sensor/#", base + "/device/+/status"))) {
            awaitJoined(client);
            publisher.publish(base + "/sensor/t1", utf8("1"), 1, false);
            publisher.publish(base + "/device/d1/status", utf8("2"), 1, false);
            publisher.publish(base + "/device/d1/config", utf8("not wanted"), 1, false);
            publisher.publish(base + "/other", utf8("not wanted"), 1, false);
            publisher.publish(base + "/sensor/t2", utf8("3"), 1, false);
            assertThat(client.awaitMessages(3)).extracting(LiveFeedTest::dataOf).containsExactly("1", "2", "3");

            client.send("{\"id\":7,\"unsubscribe\":[\"" + base + "/sensor/#\"]}");
            client.send("{\"subscribe\":[\"" + base + "/other\"]}");
            List<String> replies = client.awaitMessages(5).subList(3, 5);
            assertThat(replies).containsExactly("{\"id\":7,\"unsubscribed\":[\"" + base + "/sensor/#\"]}",
                    "{\"subscribed\":[\"" + base + "/other\"]}");
            publisher.publish(base + "/sensor/t1", utf8("not wanted any more"), 1, false);
            publisher.publish(base + "/other", utf8("4"), 1, false);
            assertThat(dataOf(client.awaitMessages(6).get(5))).isEqualTo("4");
            // nothing else came in between: a marker published after another unwanted message is the very next one
            publisher.publish(base + "/sensor/t2", utf8("not wanted either"), 1, false);
            publisher.publish(base + "/other", utf8("end"), 1, false);
            List<String> all = client.awaitMessages(7);
            assertThat(all).hasSize(7);
            assertThat(dataOf(all.get(6))).isEqualTo("end");
        }
    }

    @Test
    void should_answer_bad_requests_with_a_specific_error_and_keep_the_connection() throws Exception {
        try (WsClient client = WsClient.connect(feed(prefix + "/errors/#"))) {
            awaitJoined(client);
            client.send("not json");
            client.send("{\"subscribe\":[\"a/#/b\"]}");
            client.send("{\"hello\":1}");
            client.send("{\"publish\":{\"topic\":\"x\",\"payload\":\"p\"}}");
            client.send("{\"status\":\"yes\"}");
            List<String> replies = client.awaitMessages(5);
            assertThat(replies.get(0)).startsWith("{\"error\":\"not JSON: ");
            assertThat(replies.get(1)).isEqualTo("{\"error\":\"subscribe: 'a/#/b': '#' must be a whole level and the last one\"}");
            assertThat(replies.get(2)).isEqualTo("{\"error\":\"unknown request [hello]: expected subscribe, unsubscribe, publish or status\"}");
            assertThat(replies.get(3)).isEqualTo("{\"error\":\"publishing from browsers is off (live.client-publish-topics is empty)\"}");
            assertThat(replies.get(4)).isEqualTo("{\"error\":\"status: true to receive the feed's status now and as it changes, false to stop\"}");
            publisher.publish(prefix + "/errors/still-open", utf8("yes"), 1, false);
            assertThat(dataOf(client.awaitMessages(6).get(5))).isEqualTo("yes");
        }
    }

    @Test
    void should_close_a_connection_whose_query_filter_is_invalid_with_the_reason() throws Exception {
        try (WsClient client = WsClient.connect(feed("sensor/#/x"))) {
            assertThat(client.closed().get(10, TimeUnit.SECONDS)).startsWith("1008 invalid filter: 'sensor/#/x'");
            assertThat(client.received()).containsExactly(
                    "{\"error\":\"invalid filter: 'sensor/#/x': '#' must be a whole level and the last one\"}");
        }
    }

    @Test
    void should_deliver_10000_at_full_speed_in_order_to_fast_clients_while_a_stalled_client_loses_only_its_own() throws Exception {
        String base = prefix + "/burst";
        int count = 10_000;
        // Mosquitto drops messages for a subscriber that is more than 1,000 behind (max_queued_messages): the publisher
        // stays less than lead + checkEvery (600) ahead of the fast clients, so that a pause of this JVM makes the test
        // slower instead of making the broker drop messages before they reach the gateway
        int lead = 500;
        int checkEvery = 100;
        String padding = "p".repeat(2000);
        double droppedBefore = counter("live_frames_dropped_total", "client_backlog_full");
        double slowBefore = counter("live_clients_disconnected_total", "too_slow");
        try (WsClient fast1 = WsClient.connect(feed(base + "/#")); WsClient fast2 = WsClient.connect(feed(base + "/#"));
             WsClient fast3 = WsClient.connect(feed(base + "/#")); WsClient stalled = WsClient.connectSlow(feed(base + "/#"))) {
            awaitJoined(fast1, fast2, fast3, stalled);
            for (int i = 0; i < count; i++) {
                if (i % checkEvery == 0) {
                    int published = i;
                    await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(5)).atMost(30, TimeUnit.SECONDS)
                            .until(() -> Stream.of(fast1, fast2, fast3).allMatch(fast -> fast.receivedCount() >= published - lead));
                }
                publisher.publish(base + "/meter/" + (i % 10), utf8(i + " " + padding), 1, false);
            }
            for (WsClient fast : List.of(fast1, fast2, fast3)) {
                List<String> received = fast.awaitMessages(count);
                assertThat(received).hasSize(count);
                for (int i = 0; i < count; i++) {
                    assertThat(dataOf(received.get(i))).isEqualTo(i + " " + padding);
                }
            }
            await().atMost(20, TimeUnit.SECONDS).until(() ->
                    counter("live_frames_dropped_total", "client_backlog_full") > droppedBefore
                            && counter("live_clients_disconnected_total", "too_slow") > slowBefore);
            assertThat(stalled.received().size()).isLessThan(count);
        }
    }

    @Test
    void should_tell_a_client_that_watches_the_status_the_broker_state_and_how_many_frames_it_lost() throws Exception {
        String base = prefix + "/status";
        String padding = "s".repeat(2000);
        try (WsClient stalled = WsClient.connectSlow(feed(base + "/#"))) {
            // the one frame the stalled client reads: the reply
            stalled.send("{\"status\":true,\"id\":7}");
            JsonNode reply = ClientRequest.MAPPER.readTree(stalled.awaitMessages(1).get(0));
            assertThat(reply.path("id").asInt()).isEqualTo(7);
            JsonNode status = reply.path("status");
            assertThat(status.path("broker").path("state").asText()).isEqualTo("up");
            assertThat(java.time.Instant.parse(status.path("broker").path("since").asText())).isBefore(java.time.Instant.now());
            assertThat(status.path("broker").path("reason").isNull()).isTrue();
            assertThat(status.path("filters").toString()).isEqualTo("[\"" + base + "/#\"]");
            assertThat(status.path("publishTopics").isEmpty()).isTrue();
            assertThat(status.path("dropped").asLong()).isZero();
            assertThat(status.path("backlogLimit").asInt()).isEqualTo(1000);

            // it stops reading until its backlog overflows, then reads again before it is disconnected for it
            double droppedBefore = counter("live_frames_dropped_total", "client_backlog_full");
            for (int i = 0; counter("live_frames_dropped_total", "client_backlog_full") == droppedBefore; i++) {
                assertThat(i).as("frames published before the stalled client's backlog overflowed").isLessThan(20_000);
                for (int j = 0; j < 100; j++) {
                    publisher.publish(base + "/meter", utf8(i + " " + padding), 0, false);
                }
            }
            stalled.resume();
            await().atMost(10, TimeUnit.SECONDS).until(() -> stalled.received().stream().anyMatch(frame ->
                    frame.startsWith("{\"status\"") && !frame.contains("\"dropped\":0,")));
            assertThat(stalled.closed()).isNotDone();
        }
    }

    private static void awaitJoined(WsClient... clients) {
        // a client is in the feed once it is answered: requests are handled after it has joined
        String topic = prefix + "/join/" + UUID.randomUUID();
        for (WsClient client : clients) {
            client.send("{\"subscribe\":[\"" + topic + "\"]}");
        }
        for (WsClient client : clients) {
            await().atMost(10, TimeUnit.SECONDS).until(() ->
                    client.received().stream().anyMatch(json -> json.contains("\"subscribed\"")));
            client.clear();
        }
    }

    private static String topicOf(String json) {
        try {
            return ClientRequest.MAPPER.readTree(json).get("topic").asText();
        } catch (Exception e) {
            throw new AssertionError("not a feed message: " + abbreviate(json), e);
        }
    }

    private static String dataOf(String json) {
        try {
            return ClientRequest.MAPPER.readTree(json).get("data").asText();
        } catch (Exception e) {
            throw new AssertionError("not a feed message: " + abbreviate(json), e);
        }
    }

    private static double counter(String name, String reason) throws Exception {
        return Metrics.sum(gateway.metrics(), name, "reason=\"" + reason + "\"");
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String abbreviate(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }
}
