package org.iotgateway.live;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.iotgateway.testing.HttpFuzzer;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded fuzzing of the live feed's HTTP server and of its WebSocket frames: every malformed request is answered with
 * a client error or closed, never a server error; a connection sending broken frames affects no other browser; the
 * heap stays where it was. A failure replays with -Dfuzz.seed=N.
 */
class HostileLiveInputTest {

    static RunningGateway gateway;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.startOnly("live", Map.of("live.http-read-timeout-millis", "3000"));
        gateway.awaitMqttReady("liveMqtt");
        port = Integer.parseInt(gateway.property("live.port"));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static final String HANDSHAKE = "GET /ws?filter=fuzz/quiet HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                    + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    @Test
    void should_answer_every_malformed_http_request_with_a_client_error_or_close_it() throws Exception {
        HttpFuzzer.Survey survey = new HttpFuzzer(port, List.of("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                "GET /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n", HANDSHAKE,
                "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello")).survey("Live feed", 400);
        assertThat(survey.outcomes()).as("server errors").doesNotContainKey(HttpFuzzer.Outcome.ANSWERED_5XX);
        assertThat(survey.outcomes()).as("requests neither answered nor closed within the read timeout")
                .doesNotContainKey(HttpFuzzer.Outcome.SILENT);
        assertThat(survey.heapGrowthBytes()).as("heap growth in bytes").isLessThan(48L << 20);
    }

    @Test
    void should_answer_or_close_a_connection_sending_broken_frames_and_keep_serving_the_others() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        Random random = new Random(seed);
        Map<String, Integer> outcomes = new TreeMap<>();
        try (WsClient bystander = WsClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws?filter=fuzz/bystander"))) {
            for (int connection = 0; connection < 60; connection++) {
                outcomes.merge(brokenFrames(random), 1, Integer::sum);
            }
            bystander.send("{\"subscribe\":[\"fuzz/x\"]}");
            assertThat(bystander.awaitMessages(1)).as("another browser is served").containsExactly("{\"subscribed\":[\"fuzz/x\"]}");
        }
        System.out.printf("Live feed WebSocket fuzzing (seed %d): 60 connections of broken frames: %s%n", seed, outcomes);
        assertThat(outcomes).as("connections left hanging").doesNotContainKey("silent");
    }

    /** Opens the feed, sends a few random frames, and says what the server did: answered, closed, or nothing. */
    private static String brokenFrames(Random random) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(3_000);
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(HANDSHAKE.getBytes(StandardCharsets.ISO_8859_1));
            String response = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
            assertThat(response).isEqualTo("HTTP/1.1 101");
            skipHeaders(in);
            try {
                for (int frames = 1 + random.nextInt(4); frames > 0; frames--) {
                    out.write(frame(random));
                }
                // a last, valid request: whatever came before, the server must still answer or have closed
                out.write(frame(0x1, true, "{\"subscribe\":[\"fuzz/y\"]}".getBytes(StandardCharsets.UTF_8), random));
            } catch (IOException e) {
                return "closed";
            }
            try {
                return in.read() < 0 ? "closed" : "answered";
            } catch (SocketTimeoutException e) {
                return "silent";
            } catch (IOException e) {
                return "closed";
            }
        }
    }

    private static void skipHeaders(InputStream in) throws IOException {
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return;
            }
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
    }

    /** A random frame: any opcode, FIN or not, masked or not, random payload (text that may not be UTF-8 or JSON). */
    private static byte[] frame(Random random) {
        byte[] payload = new byte[random.nextInt(random.nextBoolean() ? 32 : 70_000)];
        random.nextBytes(payload);
        if (random.nextBoolean()) {
            payload = ("{\"subscribe\":" + new String(payload, 0, Math.min(payload.length, 20), StandardCharsets.ISO_8859_1))
                    .getBytes(StandardCharsets.UTF_8);
        }
        return frame(random.nextInt(16), random.nextInt(5) > 0, payload, random);
    }

    private static byte[] frame(int opcode, boolean fin, byte[] payload, Random random) {
        boolean masked = random.nextInt(10) > 0;
        int lengthBytes = payload.length < 126 ? 0 : payload.length < 65536 ? 2 : 8;
        byte[] frame = new byte[2 + lengthBytes + (masked ? 4 : 0) + payload.length];
        frame[0] = (byte) ((fin ? 0x80 : 0) | opcode);
        int at = 2;
        if (lengthBytes == 0) {
            frame[1] = (byte) payload.length;
        } else if (lengthBytes == 2) {
            frame[1] = 126;
            frame[2] = (byte) (payload.length >> 8);
            frame[3] = (byte) payload.length;
            at = 4;
        } else {
            frame[1] = 127;
            for (int i = 0; i < 8; i++) {
                frame[2 + i] = (byte) ((long) payload.length >> (56 - 8 * i));
            }
            at = 10;
        }
        byte[] mask = new byte[4];
        if (masked) {
            frame[1] |= (byte) 0x80;
            random.nextBytes(mask);
            System.arraycopy(mask, 0, frame, at, 4);
            at += 4;
        }
        for (int i = 0; i < payload.length; i++) {
            frame[at + i] = (byte) (payload[i] ^ mask[i & 3]);
        }
        return frame;
    }
}
