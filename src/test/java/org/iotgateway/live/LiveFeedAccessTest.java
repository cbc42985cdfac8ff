package org.iotgateway.live;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionException;

import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The bearer token on the handshake, publishing from browsers within the allow-list, and the dashboard's files. */
class LiveFeedAccessTest {

    private static final String TOKEN = "s3cret-token";
    private static RunningGateway gateway;
    private static String prefix;

    @BeforeAll
    static void startGateway() throws Exception {
        prefix = "it-" + UUID.randomUUID().toString().substring(0, 8);
        gateway = RunningGateway.startOnly("live", Map.of("live.bearer-token", TOKEN,
                "live.client-publish-topics", prefix + "/commands/#@1," + prefix + "/lamp"));
        gateway.awaitMqttReady("liveMqtt");
    }

    @AfterAll
    static void stopGateway() {
        gateway.close();
    }

    private static String base() {
        return "127.0.0.1:" + gateway.property("live.port");
    }

    @Test
    void should_refuse_the_handshake_without_the_right_bearer_token() {
        assertThatThrownBy(() -> WsClient.connect(URI.create("ws://" + base() + "/ws")))
                .isInstanceOf(CompletionException.class).hasStackTraceContaining("status code 401");
        assertThatThrownBy(() -> WsClient.connect(URI.create("ws://" + base() + "/ws?access_token=wrong")))
                .isInstanceOf(CompletionException.class).hasStackTraceContaining("status code 401");
    }

    @Test
    void should_accept_the_token_as_header_or_query_parameter() {
        // a filter of this test's own, so that retained values other tests left on the broker are not replayed here
        String quiet = "filter=" + prefix + "/quiet";
        try (WsClient header = WsClient.connect(URI.create("ws://" + base() + "/ws?" + quiet), Map.of("Authorization", "Bearer " + TOKEN));
             WsClient query = WsClient.connect(URI.create("ws://" + base() + "/ws?" + quiet + "&access_token=" + TOKEN))) {
            header.send("{\"subscribe\":[\"x\"]}");
            query.send("{\"subscribe\":[\"x\"]}");
            assertThat(header.awaitMessages(1)).containsExactly("{\"subscribed\":[\"x\"]}");
            assertThat(query.awaitMessages(1)).containsExactly("{\"subscribed\":[\"x\"]}");
        }
    }

    @Test
    void should_publish_from_the_browser_only_to_allowed_topics_and_say_why_not() {
        String topic = prefix + "/commands/lamp-1";
        try (WsClient browser = WsClient.connect(URI.create("ws://" + base() + "/ws?access_token=" + TOKEN
                + "&filter=" + prefix + "/commands/%23"))) {
            browser.send("{\"id\":\"a\",\"publish\":{\"topic\":\"" + topic + "\",\"payload\":\"on\",\"qos\":1}}");
            List<String> received = browser.awaitMessages(2);
            assertThat(received).contains("{\"id\":\"a\",\"published\":\"" + topic + "\"}");
            assertThat(received).anyMatch(json -> json.startsWith("{\"topic\":\"" + topic + "\",\"data\":\"on\","));

            browser.send("{\"id\":\"b\",\"publish\":{\"topic\":\"" + prefix + "/other\",\"payload\":\"x\"}}");
            browser.send("{\"id\":\"c\",\"publish\":{\"topic\":\"" + prefix + "/commands/+\",\"payload\":\"x\"}}");
            browser.send("{\"id\":\"d\",\"publish\":{\"topic\":\"" + topic + "\",\"payload\":\"x\",\"qos\":3}}");
            assertThat(browser.awaitMessages(5).subList(2, 5)).containsExactly(
                    "{\"id\":\"b\",\"error\":\"publishing to '" + prefix + "/other' is not allowed (live.client-publish-topics)\"}",
                    "{\"id\":\"c\",\"error\":\"publish: '" + prefix + "/commands/+': a topic name cannot contain the wildcards + or #\"}",
                    "{\"id\":\"d\",\"error\":\"publish: qos must be 0, 1 or 2, got 3\"}");
        }
    }

    @Test
    void should_serve_the_dashboard_pointing_at_the_feed_path() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create("http://" + base() + "/")).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.body()).contains("<meta name=\"feed-path\" content=\"/ws\">", "app.js");
        HttpResponse<String> script = http.send(HttpRequest.newBuilder(URI.create("http://" + base() + "/app.js")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(script.statusCode()).isEqualTo(200);
        HttpResponse<String> missing = http.send(HttpRequest.newBuilder(URI.create("http://" + base() + "/nothing")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(missing.statusCode()).isEqualTo(404);
    }
}
