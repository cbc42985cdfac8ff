package org.iotgateway.live;

import java.io.DataInputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
                "live.allowed-origins", "https://dash.example.com", "live.http-read-timeout-millis", "2000",
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
    void should_answer_an_oversized_or_binary_request_as_a_bad_request_and_close_only_past_the_frame_limit_with_the_reason()
            throws Exception {
        double rejectedBefore = rejectedRequests();
        String quiet = "filter=" + prefix + "/quiet&access_token=" + TOKEN;
        try (WsClient browser = WsClient.connect(URI.create("ws://" + base() + "/ws?" + quiet))) {
            browser.send("x".repeat(70_000));
            browser.sendBinary(new byte[] {1, 2, 3});
            browser.send("{\"subscribe\":[\"y\"]}");
            assertThat(browser.awaitMessages(3)).containsExactly(
                    "{\"error\":\"a request of 70000 bytes is over the limit of 65536 bytes (live.max-request-bytes)\"}",
                    "{\"error\":\"requests are JSON text frames\"}",
                    "{\"subscribed\":[\"y\"]}");
            assertThat(rejectedRequests() - rejectedBefore).as("both counted").isEqualTo(2.0);

            // the JDK's client sends a long message in fragments: past the frame limit they are dropped unread
            browser.clear();
            browser.send("x".repeat(2 * 1024 * 1024));
            browser.send("{\"subscribe\":[\"z\"]}");
            assertThat(browser.awaitMessages(2)).containsExactly(
                    "{\"error\":\"a request of more than 1048576 bytes is over the limit of 65536 bytes (live.max-request-bytes)\"}",
                    "{\"subscribed\":[\"z\"]}");
        }
        // one frame past the limit cannot be skipped: the connection ends, with the close code and the reason
        try (Socket socket = new Socket("127.0.0.1", Integer.parseInt(gateway.property("live.port")))) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /ws?" + quiet + " HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            DataInputStream in = new DataInputStream(socket.getInputStream());
            for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
                // the 101 answer's head
            }
            int length = 2 * 1024 * 1024;
            ByteBuffer frame = ByteBuffer.allocate(14 + length).put((byte) 0x81).put((byte) (0x80 | 127)).putLong(length)
                    .putInt(0).put(new byte[length]);
            socket.getOutputStream().write(frame.array());
            int opcode = in.readUnsignedByte() & 0x0f;
            int closeLength = in.readUnsignedByte() & 0x7f;
            byte[] close = in.readNBytes(closeLength);
            assertThat(opcode).as("a close frame").isEqualTo(8);
            assertThat(ByteBuffer.wrap(close).getShort()).isEqualTo((short) 1009);
            assertThat(new String(close, 2, close.length - 2, StandardCharsets.UTF_8)).isEqualTo("Max frame length of 1048576 has been exceeded.");
        }
    }

    private static String readLine(DataInputStream in) throws Exception {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n' && c != -1; c = in.read()) {
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }

    private static double rejectedRequests() throws Exception {
        Matcher counter = Pattern.compile("(?m)^live_requests_rejected_total\\{[^}]*} (\\S+)$").matcher(gateway.metrics());
        return counter.find() ? Double.parseDouble(counter.group(1)) : 0;
    }

    @Test
    void should_let_only_pages_of_the_dashboards_own_or_an_allowed_origin_open_the_feed() {
        String quiet = "/ws?filter=" + prefix + "/quiet&access_token=" + TOKEN;
        assertThatThrownBy(() -> WsClient.connect(URI.create("ws://" + base() + quiet), Map.of("Origin", "https://evil.example")))
                .isInstanceOf(CompletionException.class).hasStackTraceContaining("status code 403");
        assertThatThrownBy(() -> WsClient.connect(URI.create("ws://" + base() + quiet), Map.of("Origin", "null")))
                .as("a sandboxed page").isInstanceOf(CompletionException.class).hasStackTraceContaining("status code 403");
        for (String origin : new String[] {"http://" + base(), "https://dash.example.com", "https://DASH.example.com:443"}) {
            try (WsClient page = WsClient.connect(URI.create("ws://" + base() + quiet), Map.of("Origin", origin))) {
                page.send("{\"subscribe\":[\"x\"]}");
                assertThat(page.awaitMessages(1)).as(origin).containsExactly("{\"subscribed\":[\"x\"]}");
            }
        }
    }

    @Test
    void should_close_a_connection_that_trickles_its_request_but_keep_an_idle_websocket() throws Exception {
        String quiet = "/ws?filter=" + prefix + "/quiet&access_token=" + TOKEN;
        try (WsClient idle = WsClient.connect(URI.create("ws://" + base() + quiet));
             Socket slow = new Socket("127.0.0.1", Integer.parseInt(gateway.property("live.port")))) {
            slow.setSoTimeout(500);
            slow.getOutputStream().write("GET / HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long start = System.nanoTime();
            int read = -2;
            for (int i = 0; i < 12 && read == -2; i++) {
                try {
                    slow.getOutputStream().write(("X-Slow-" + i + ": y\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    read = slow.getInputStream().read();
                } catch (java.net.SocketTimeoutException e) {
                    read = -2;
                } catch (java.io.IOException e) {
                    read = -1;
                }
            }
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(read).as("closed").isEqualTo(-1);
            assertThat(millis).as("ms until closed, with live.http-read-timeout-millis=2000").isBetween(1_500L, 3_500L);
            idle.send("{\"subscribe\":[\"x\"]}");
            assertThat(idle.awaitMessages(1)).as("a WebSocket idle for longer is kept").containsExactly("{\"subscribed\":[\"x\"]}");
        }
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
