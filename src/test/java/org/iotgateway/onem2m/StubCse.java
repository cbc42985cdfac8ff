package org.iotgateway.onem2m;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;

/**
 * A CSE on its HTTP binding (TS-0009), answering as one does for the resources the tests use: the CSEBase
 * {@code onem2m} of {@code /mn-cse-1}, AE, container and content instance creation, retrieve, update, delete and
 * discovery ({@code fu=1}), {@code X-M2M-RSC} on every answer and {@code m2m:dbg} on errors. The path {@code onem2m/slow}
 * answers after 3 s.
 */
public final class StubCse implements AutoCloseable {

    /**
     * One HTTP request a stub received, its path as a server reads it: percent-decoded ("/%7E/cse" is "/~/cse", as
     * RFC 3986 makes them equal and the CSEs' HTTP servers decode it), the query as sent.
     */
    record Received(String method, String pathAndQuery, String contentType, String origin, String requestId, String body) {

        static Received of(HttpExchange exchange, String body) {
            String query = exchange.getRequestURI().getRawQuery();
            return new Received(exchange.getRequestMethod(), exchange.getRequestURI().getPath() + (query == null ? "" : "?" + query),
                    exchange.getRequestHeaders().getFirst("Content-Type"), exchange.getRequestHeaders().getFirst("X-M2M-Origin"),
                    exchange.getRequestHeaders().getFirst("X-M2M-RI"), body);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<Integer, String> TYPES = Map.of(2, "m2m:ae", 3, "m2m:cnt", 4, "m2m:cin", 23, "m2m:sub");

    private final HttpServer server;
    private final Map<String, ObjectNode> resources = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();
    final List<Received> received = new CopyOnWriteArrayList<>();

    public StubCse(int port) throws IOException {
        ObjectNode base = JSON.createObjectNode();
        base.putObject("m2m:cb").put("ri", "cb0").put("rn", "onem2m").put("ty", 5).put("csi", "/mn-cse-1");
        resources.put("onem2m", base);
        server = serve(port, this::handle);
    }

    /** An HTTP server on the loopback port, every path to {@code handler}, a thread per request. */
    static HttpServer serve(int port, HttpHandler handler) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 50);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", handler);
        server.start();
        return server;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String query = exchange.getRequestURI().getRawQuery();
        received.add(Received.of(exchange, body));
        String path = exchange.getRequestURI().getPath().replaceFirst("^/~/mn-cse-1/", "/").substring(1);
        exchange.getResponseHeaders().set("X-M2M-RI", String.valueOf(exchange.getRequestHeaders().getFirst("X-M2M-RI")));
        if (path.equals("onem2m/slow")) {
            sleep(3000);
        }
        ObjectNode resource = resources.get(path);
        switch (exchange.getRequestMethod()) {
            case "GET" -> {
                if (resource == null) {
                    notFound(exchange);
                } else if (query != null && query.contains("fu=1")) {
                    ObjectNode list = JSON.createObjectNode();
                    resources.keySet().stream().filter(key -> key.startsWith(path + "/")).sorted()
                            .forEach(key -> list.withArray("m2m:uril").add("/mn-cse-1/" + key));
                    answer(exchange, 200, 2000, list);
                } else {
                    answer(exchange, 200, 2000, resource);
                }
            }
            case "POST" -> {
                String contentType = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type"));
                int ty = contentType.contains("ty=") ? Integer.parseInt(contentType.replaceAll(".*ty=(\\d+).*", "$1")) : 0;
                if (resource == null || !TYPES.containsKey(ty)) {
                    if (resource == null) {
                        notFound(exchange);
                    } else {
                        error(exchange, 400, 4000, "unsupported resource type " + ty);
                    }
                    return;
                }
                ObjectNode content = (ObjectNode) JSON.readTree(body).get(TYPES.get(ty));
                String name = content.has("rn") ? content.get("rn").asText() : "r" + ids.incrementAndGet();
                content.put("rn", name).put("ri", "ri" + ids.incrementAndGet()).put("ty", ty).put("pi", resource.elements().next().path("ri").asText());
                if (ty == 2) {
                    content.put("aei", "C" + name);
                }
                ObjectNode created = JSON.createObjectNode();
                created.set(TYPES.get(ty), content);
                resources.put(path + "/" + name, created);
                exchange.getResponseHeaders().set("Content-Location", content.get("ri").asText());
                answer(exchange, 201, 2001, created);
            }
            case "PUT" -> {
                if (resource == null) {
                    notFound(exchange);
                    return;
                }
                ObjectNode updated = (ObjectNode) resource.elements().next();
                JSON.readTree(body).elements().next().fields().forEachRemaining(field -> updated.set(field.getKey(), field.getValue()));
                answer(exchange, 200, 2004, resource);
            }
            case "DELETE" -> {
                if (resources.remove(path) == null) {
                    notFound(exchange);
                } else {
                    answer(exchange, 200, 2002, null);
                }
            }
            default -> error(exchange, 405, 4005, "operation not allowed");
        }
    }

    private static void notFound(HttpExchange exchange) throws IOException {
        error(exchange, 404, 4004, "resource does not exist");
    }

    private static void error(HttpExchange exchange, int status, int rsc, String reason) throws IOException {
        answer(exchange, status, rsc, JSON.createObjectNode().put("m2m:dbg", reason));
    }

    private static void answer(HttpExchange exchange, int status, int rsc, JsonNode body) throws IOException {
        byte[] bytes = body == null ? new byte[0] : body.toString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("X-M2M-RSC", Integer.toString(rsc));
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
