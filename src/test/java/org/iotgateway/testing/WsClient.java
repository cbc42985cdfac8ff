package org.iotgateway.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A browser stand-in on the live feed: collects every text message. A slow one asks for a single message and then
 * stops reading, so its socket fills up as a stalled browser's would.
 */
public final class WsClient implements AutoCloseable {

    // not copy-on-write: 10,000 messages would copy the list once per message, hundreds of megabytes of garbage in
    // the JVM that also runs the gateway
    private final List<String> received = Collections.synchronizedList(new ArrayList<>());
    private final CompletableFuture<String> closed = new CompletableFuture<>();
    private final WebSocket socket;

    private WsClient(URI uri, Map<String, String> headers, boolean slow) {
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        headers.forEach(builder::header);
        socket = builder.buildAsync(uri, new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public void onOpen(WebSocket webSocket) {
                webSocket.request(slow ? 1 : Long.MAX_VALUE);
            }

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    received.add(partial.toString());
                    partial.setLength(0);
                }
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                closed.complete(statusCode + " " + reason);
                return null;
            }

            @Override
            public void onError(WebSocket webSocket, Throwable error) {
                closed.complete("error " + error);
            }
        }).join();
    }

    public static WsClient connect(URI uri) {
        return new WsClient(uri, Map.of(), false);
    }

    public static WsClient connect(URI uri, Map<String, String> headers) {
        return new WsClient(uri, headers, false);
    }

    public static WsClient connectSlow(URI uri) {
        return new WsClient(uri, Map.of(), true);
    }

    public List<String> received() {
        synchronized (received) {
            return new ArrayList<>(received);
        }
    }

    public int receivedCount() {
        return received.size();
    }

    public void clear() {
        received.clear();
    }

    public List<String> awaitMessages(int count) {
        await().atMost(30, TimeUnit.SECONDS).alias("receiving " + count + " messages")
                .until(this::receivedCount, size -> size >= count);
        return received();
    }

    /** A slow client reads again, everything from now on. */
    public void resume() {
        socket.request(Long.MAX_VALUE);
    }

    public void send(String text) {
        socket.sendText(text, true).join();
    }

    public void sendBinary(byte[] data) {
        socket.sendBinary(java.nio.ByteBuffer.wrap(data), true).join();
    }

    public CompletableFuture<String> closed() {
        return closed;
    }

    @Override
    public void close() {
        socket.abort();
    }
}
