package org.iotgateway.onem2m;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * An AE on the HTTP binding, receiving notifications at its point of access as TS-0009 delivers them, and answering
 * each with 2000 ({@code X-M2M-RSC}, {@code X-M2M-RI}) and no body, as AEs do.
 */
final class StubAe implements AutoCloseable {

    private final HttpServer server;
    final BlockingQueue<StubCse.Received> received = new LinkedBlockingQueue<>();

    StubAe(int port) throws IOException {
        server = StubCse.serve(port, this::handle);
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        received.add(StubCse.Received.of(exchange, new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
        exchange.getResponseHeaders().set("X-M2M-RSC", "2000");
        exchange.getResponseHeaders().set("X-M2M-RI", String.valueOf(exchange.getRequestHeaders().getFirst("X-M2M-RI")));
        exchange.sendResponseHeaders(200, -1);
        try (OutputStream out = exchange.getResponseBody()) {
            out.flush();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
