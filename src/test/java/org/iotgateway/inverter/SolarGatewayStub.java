package org.iotgateway.inverter;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The solar gateway's local web API as the inverter bridge meets it, on real HTTP with the real paths and bodies
 * ({@code shared/reference/bridges.md} §A): {@code GET /api/crypto}, {@code POST /api/jwt/create} (ES256 tokens signed
 * with a key of its own, valid for {@link #tokenLifetime}), {@code GET /api/inverter/modbus} for device
 * {@value #DEVICE}, {@code GET /api/state}. Device ids {@code slow}, {@code broken} and {@code html} make it answer
 * late, with HTTP 500, or with a page that is not JSON. It can be stopped and started again on the same port.
 */
public final class SolarGatewayStub implements AutoCloseable {

    static final String SERIAL = "01233d0bd6c14b4aee";
    static final String DEVICE = "A2332407312";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KeyPair signingKey;
    private final int port;
    private HttpServer server;
    volatile Duration tokenLifetime = Duration.ofMinutes(5);
    volatile long modbusLatencyMillis;
    final List<String> modbusQueries = new CopyOnWriteArrayList<>();
    final List<JsonNode> jwtRequests = new CopyOnWriteArrayList<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    final AtomicInteger maxInFlight = new AtomicInteger();

    public SolarGatewayStub(int port) throws Exception {
        this(port, newSigningKey());
    }

    /** Another web API of the same device: its tokens are signed with the same crypto chip key. */
    SolarGatewayStub(int port, SolarGatewayStub sameDevice) throws Exception {
        this(port, sameDevice.signingKey);
    }

    private SolarGatewayStub(int port, KeyPair signingKey) throws Exception {
        this.signingKey = signingKey;
        this.port = port;
        start();
    }

    private static KeyPair newSigningKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 200);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/api/crypto", exchange -> answer(exchange, 200,
                "{\"deviceName\":\"software\",\"serialNumber\":\"" + SERIAL + "\",\"publicKey\":\"...\"}"));
        server.createContext("/api/jwt/create", this::createJwt);
        server.createContext("/api/inverter/modbus", this::modbus);
        server.createContext("/api/state", exchange -> answer(exchange, 200,
                "{\"status\":\"online\",\"uptime\":1234.5,\"version\":\"0.21.3\",\"timestamp\":\"from-the-api\",\"connected_devices\":3}"));
        server.start();
    }

    void stop() {
        server.stop(0);
    }

    @Override
    public void close() {
        stop();
    }

    private void createJwt(HttpExchange exchange) throws IOException {
        JsonNode request = JSON.readTree(exchange.getRequestBody());
        jwtRequests.add(request);
        if (!request.has("barn")) {
            answer(exchange, 400, "{\"error\":\"barn data is required\"}");
            return;
        }
        if (!request.has("headers")) {
            answer(exchange, 400, "{\"error\":\"headers are required\"}");
            return;
        }
        Instant now = Instant.now();
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("sub", request.path("barn").path("sub").asText());
        claims.put("iat", now.getEpochSecond());
        claims.put("exp", now.plus(tokenLifetime).getEpochSecond());
        String jwt = sign(JSON.writeValueAsString(request.path("headers")), JSON.writeValueAsString(claims));
        answer(exchange, 200, JSON.writeValueAsString(Map.of("jwt", jwt, "headers", request.path("headers"),
                "data", claims, "expires_in", request.path("expires_in"))));
    }

    private String sign(String header, String claims) {
        Base64.Encoder base64 = Base64.getUrlEncoder().withoutPadding();
        String signed = base64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + base64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        try {
            Signature es256 = Signature.getInstance("SHA256withECDSAinP1363Format");
            es256.initSign(signingKey.getPrivate());
            es256.update(signed.getBytes(StandardCharsets.US_ASCII));
            return signed + "." + base64.encodeToString(es256.sign());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Null when {@code jwt} is an ES256 token of this API for {@code username}, valid now; else why not. */
    public String rejection(String username, String jwt) {
        String[] parts = jwt == null ? new String[0] : jwt.split("\\.");
        if (parts.length != 3) {
            return "not a JWT";
        }
        try {
            Signature es256 = Signature.getInstance("SHA256withECDSAinP1363Format");
            es256.initVerify(signingKey.getPublic());
            es256.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            if (!es256.verify(Base64.getUrlDecoder().decode(parts[2]))) {
                return "bad signature";
            }
            JsonNode claims = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
            if (!claims.path("sub").asText().equals(username)) {
                return "token for another subject";
            }
            if (claims.path("exp").asLong() <= Instant.now().getEpochSecond()) {
                return "token expired";
            }
            return null;
        } catch (Exception e) {
            return "unreadable token: " + e;
        }
    }

    private void modbus(HttpExchange exchange) throws IOException {
        String query = exchange.getRequestURI().getRawQuery();
        modbusQueries.add(query);
        Map<String, String> parameters = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            String[] keyValue = pair.split("=", 2);
            parameters.put(keyValue[0], URLDecoder.decode(keyValue[1], StandardCharsets.UTF_8));
        }
        // counted until the answer is ready: the client may send its next call as soon as it has this one
        maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
        String device = parameters.get("device_id");
        try {
            sleep(modbusLatencyMillis + (device.equals("slow") ? 3000 : 0));
        } finally {
            inFlight.decrementAndGet();
        }
        switch (device) {
            case DEVICE -> answer(exchange, 200, parameters.get("function_code").equals("16")
                    ? "{\"address\":" + parameters.get("address") + ",\"success\":true,\"values\":[" + parameters.get("values") + "]}"
                    : "{\"register\":" + parameters.get("address") + ",\"size\":" + parameters.get("size")
                            + ",\"raw_value\":\"01f4\",\"swapped_value\":\"f401\",\"value\":50.0}");
            case "slow" -> answer(exchange, 200, "{\"value\":1}");
            case "broken" -> answer(exchange, 500, "{\"error\":\"modbus timeout talking to the inverter\"}");
            case "html" -> answer(exchange, 502, "<html><body>Bad Gateway</body></html>");
            default -> answer(exchange, 400, "{\"error\":\"device " + device + " not found\"}");
        }
    }

    private static void sleep(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", body.startsWith("<") ? "text/html" : "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}
