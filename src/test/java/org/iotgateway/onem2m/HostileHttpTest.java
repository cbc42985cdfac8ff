package org.iotgateway.onem2m;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.HttpFuzzer;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The oneM2M HTTP binding faces whoever reaches its port: slow senders are cut off, oversized and malformed requests
 * are answered with a 4xx at once, and requests beyond what the gateway has in flight get "busy" instead of a queue.
 * The CSE on the broker stays silent here, so every request that reaches it waits the whole onem2m.mqtt-timeout-millis.
 */
class HostileHttpTest {

    private static final String CSE = "in-cse-" + System.nanoTime();
    private static RunningGateway gateway;
    private static int port;

    @BeforeAll
    static void start() throws Exception {
        port = RunningGateway.freeTcpPort();
        gateway = RunningGateway.startOnly("onem2m", Map.of("onem2m.enabled", "true", "onem2m.mqtt-cse-id", CSE,
                "onem2m.http-port", Integer.toString(port), "onem2m.mqtt-timeout-millis", "3000",
                "onem2m.mqtt-to-http-enabled", "false", "onem2m.http-max-in-flight", "20"));
        gateway.awaitMqttReady("onem2mMqtt");
    }

    @AfterAll
    static void stop() {
        if (gateway != null) {
            gateway.close();
        }
    }

    static HttpRequest.Builder request() {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/~/" + CSE + "/base"))
                .header("X-M2M-Origin", "Chostile").header("X-M2M-RI", "r1").header("X-M2M-RVI", "3")
                .timeout(Duration.ofSeconds(15));
    }

    /** Writes a raw request and returns the status line of the answer (null when the connection closed first). */
    static String raw(String request, int timeoutMillis) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(timeoutMillis);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            byte[] answer = socket.getInputStream().readNBytes(12);
            return answer.length == 0 ? null : new String(answer, StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void should_answer_every_malformed_request_with_a_client_error_or_close_it_and_serve_on() throws Exception {
        String base = "/~/" + CSE + "/base";
        HttpFuzzer.Survey survey = new HttpFuzzer(port, List.of(
                "GET " + base + "?fu=1&ty=4 HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: Cfuzz\r\nX-M2M-RI: f1\r\nX-M2M-RVI: 3\r\n\r\n",
                "POST " + base + " HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: Cfuzz\r\nX-M2M-RI: f2\r\nContent-Type: application/json;ty=4\r\n"
                + "Content-Length: 24\r\n\r\n{\"m2m:cin\":{\"con\":\"x\"}}",
                "DELETE " + base + "/x HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: Cfuzz\r\nX-M2M-RI: f3\r\n\r\n")).survey("oneM2M", 400);
        assertThat(survey.outcomes()).as("server errors").doesNotContainKey(HttpFuzzer.Outcome.ANSWERED_5XX);
        assertThat(survey.heapGrowthBytes()).as("heap growth in bytes").isLessThan(48L << 20);
        HttpResponse<String> answer = HttpClient.newHttpClient().send(request().GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(answer.headers().firstValue("X-M2M-RSC")).as("a normal request is answered").hasValue("5103");
    }

    @Test
    void should_answer_normal_requests_while_slow_connections_trickle_their_headers() throws Exception {
        List<Socket> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                Socket socket = new Socket("127.0.0.1", port);
                socket.getOutputStream().write("GET /~/x HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.ISO_8859_1));
                slow.add(socket);
            }
            long start = System.nanoTime();
            HttpResponse<String> answer = HttpClient.newHttpClient().send(request().GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).as("answered (the silent CSE: a timeout)").isGreaterThanOrEqualTo(400);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(6_000);
        } finally {
            for (Socket socket : slow) {
                socket.close();
            }
        }
    }

    @Test
    void should_close_a_connection_that_has_not_sent_its_whole_request_within_the_read_timeout() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(15_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write("GET /~/x HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long start = System.nanoTime();
            // one header line every second, never the end of the headers
            int read = -2;
            for (int i = 0; i < 14 && read == -2; i++) {
                try {
                    out.write(("X-Slow-" + i + ": y\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    socket.setSoTimeout(1_000);
                    read = in.read();
                } catch (java.net.SocketTimeoutException e) {
                    read = -2;
                } catch (IOException e) {
                    read = -1;
                }
            }
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            assertThat(read).as("closed (or answered 408)").isNotEqualTo(-2);
            assertThat(seconds).as("seconds until the gateway gave up").isBetween(8L, 12L);
        }
    }

    @Test
    void should_refuse_a_body_larger_than_the_limit_without_reading_it() throws Exception {
        String answer = raw("POST /~/" + CSE + "/base HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: C1\r\nX-M2M-RI: r\r\n"
                            + "Content-Type: application/json;ty=4\r\nContent-Length: 52428800\r\n\r\n{", 5_000);
        assertThat(answer).isEqualTo("HTTP/1.1 413");
    }

    @Test
    void should_answer_a_malformed_chunked_body_with_400() throws Exception {
        String answer = raw("POST /~/" + CSE + "/base HTTP/1.1\r\nHost: x\r\nX-M2M-Origin: C1\r\nX-M2M-RI: r\r\n"
                            + "Content-Type: application/json;ty=4\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\ngarbage\r\n0\r\n\r\n", 5_000);
        assertThat(answer).isEqualTo("HTTP/1.1 400");
    }

    @Test
    void should_answer_busy_beyond_the_requests_in_flight_instead_of_queueing_them() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            answers.add(client.sendAsync(request().setHeader("X-M2M-RI", "busy-" + i).GET().build(), HttpResponse.BodyHandlers.ofString()));
        }
        long start = System.nanoTime();
        int busy = 0;
        for (CompletableFuture<HttpResponse<String>> answer : answers) {
            HttpResponse<String> response = answer.get(20, TimeUnit.SECONDS);
            if (response.statusCode() == 503) {
                busy++;
                assertThat(response.headers().firstValue("X-M2M-RSC")).hasValue("5103");
            }
        }
        System.out.printf("oneM2M HTTP: %d of 80 requests to a silent CSE answered busy; all answered in %d ms%n", busy,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        assertThat(busy).isPositive();
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("nobody waits for a queue").isLessThan(8_000);
    }
}
