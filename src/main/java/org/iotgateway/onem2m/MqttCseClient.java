package org.iotgateway.onem2m;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.AsyncCallback;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.support.AsyncProcessorSupport;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.iotgateway.GatewayMeters;
import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.mqtt.Subscription;
import org.iotgateway.mqtt.TopicFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application side of the binding, as the processor of the route whose {@code from:} is the gateway's TS-0009 HTTP
 * endpoint: an HTTP request (Camel's HTTP headers, the X-M2M-* headers, the body) becomes a request primitive published to
 * {@code /oneM2M/req/<originator>/<target CSE>/json}; the response primitive that comes back on the response topic,
 * matched by originator and {@code rqi}, becomes the HTTP response ({@code X-M2M-RSC}, the status of the TS-0009 table,
 * {@code pc} as the body). No answer within the timeout is 5103. It starts and stops with its route.
 * <p>
 * The AEs that register through this binding are learned by {@link PointsOfAccess}: the route
 * {@code onem2m-notifications-to-http} takes their requests (notifications) from the broker.
 */
public class MqttCseClient extends AsyncProcessorSupport implements CamelContextAware, MqttConnection.MessageListener {

    private static final Logger LOG = LoggerFactory.getLogger(MqttCseClient.class);

    /** Filter criteria of TS-0004 (m2m:filterCriteria) that TS-0009 carries as query parameters. */
    private static final Set<String> FILTER_CRITERIA = Set.of("ty", "lbl", "lim", "fu", "cra", "crb", "ms", "us", "sts", "stb",
            "exb", "exa", "cty", "sza", "szb", "lvl", "ofst", "arp", "clbl", "plbl", "chty", "pty", "fo", "smf");
    /** The list-typed ones: a list even with one value (ty=4 is [4]), their values numbers or text as TS-0004 types them. */
    private static final Set<String> NUMBER_LISTS = Set.of("ty", "chty", "pty");
    private static final Set<String> TEXT_LISTS = Set.of("lbl", "cty", "clbl", "plbl");

    private CamelContext camelContext;
    private MqttConnection connection;
    private String targetCseId;
    private long timeoutMillis = 10000;
    private int maxInFlight = 256;
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private Onem2mMetrics metrics;
    private PointsOfAccess pointsOfAccess = new PointsOfAccess();

    @Override
    protected void doStart() {
        metrics = new Onem2mMetrics(GatewayMeters.registry(camelContext), "http_to_mqtt");
        connection.register(List.of(new Subscription(TopicFilter.parse("/oneM2M/resp/+/" + OneM2mTopic.mask(targetCseId) + "/#"), 1)),
                this);
        connection.acquire();
    }

    @Override
    protected void doStop() {
        connection.unregister(this);
        connection.release();
        pending.values().forEach(waiting -> waiting.completeExceptionally(new IllegalStateException("the gateway is stopping")));
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        long started = System.nanoTime();
        metrics.request();
        JsonNode request = null;
        // the answer's body as asked (Accept), else as sent (Content-Type), else JSON
        Message http = exchange.getMessage();
        Serialization reply = Serialization.ofMediaType(http.getHeader("Accept", String.class));
        if (reply == null) {
            reply = Objects.requireNonNullElse(Serialization.ofMediaType(http.getHeader(Exchange.CONTENT_TYPE, String.class)),
                    Serialization.JSON);
        }
        Serialization answerIn = reply;
        try {
            request = requestPrimitive(http);
            if (pending.size() >= maxInFlight) {
                // busy at once rather than a queue: the client retries, and the gateway's memory stays bounded
                metrics.busy();
                respond(http, HttpBinding.errorResponse(request, null, Onem2mException.TARGET_NOT_REACHABLE,
                        maxInFlight + " requests already wait for " + targetCseId + ": try again shortly"), answerIn, started);
                http.setHeader(Exchange.HTTP_RESPONSE_CODE, 503);
                http.setHeader("Retry-After", "1");
                callback.done(true);
                return true;
            }
            String originator = OneM2mTopic.mask(request.get("fr").asText());
            String key = originator + " " + request.get("rqi").asText();
            CompletableFuture<JsonNode> answer = new CompletableFuture<>();
            if (pending.putIfAbsent(key, answer) != null) {
                throw new Onem2mException(Onem2mException.BAD_REQUEST, "request " + request.get("rqi").asText() + " of "
                        + request.get("fr").asText() + " is already waiting for its response");
            }
            JsonNode sent = request;
            connection.publish(OneM2mTopic.requestTopic(request.get("fr").asText(), targetCseId),
                            request.toString().getBytes(StandardCharsets.UTF_8), 1, false)
                    .thenCompose(published -> answer)
                    .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                    .whenComplete((response, failure) -> {
                        pending.remove(key, answer);
                        if (failure == null) {
                            // a registration is answered once the broker has granted the subscription to its AE's
                            // requests, so that a notification sent right after the answer is carried, not lost
                            pointsOfAccess.learn(sent, response).orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                                    .whenComplete((subscribed, notYet) -> {
                                        if (notYet != null) {
                                            LOG.warn("oneM2M: the broker has not granted the subscription to the requests for {} within {} ms;"
                                                    + " answering its registration all the same",
                                                    response.path("pc").path("m2m:ae").path("aei").asText(), timeoutMillis);
                                        }
                                        respond(exchange.getMessage(), response, answerIn, started);
                                        callback.done(false);
                                    });
                            return;
                        }
                        boolean late = failure instanceof TimeoutException;
                        if (late) {
                            metrics.timeout();
                        }
                        String reason = late ? "no response from " + targetCseId + " over MQTT within " + timeoutMillis + " ms"
                                : "cannot reach " + targetCseId + " over MQTT: " + failure.getMessage();
                        respond(exchange.getMessage(), HttpBinding.errorResponse(sent, null, Onem2mException.TARGET_NOT_REACHABLE, reason),
                                answerIn, started);
                        callback.done(false);
                    });
            return false;
        } catch (Onem2mException e) {
            // a request that could not be read is answered to the X-M2M-RI it carried all the same
            JsonNode asked = request != null ? request : JsonNodeFactory.instance.objectNode()
                    .put("rqi", http.getHeader("X-M2M-RI", "", String.class));
            respond(exchange.getMessage(), HttpBinding.errorResponse(asked, null, e.rsc(), e.getMessage()), answerIn, started);
            callback.done(true);
            return true;
        }
    }

    /** The request primitive of a TS-0009 HTTP request (headers, path, query and body as the binding defines them). */
    static ObjectNode requestPrimitive(Message http) throws Onem2mException {
        String method = http.getHeader(Exchange.HTTP_METHOD, String.class);
        String contentType = http.getHeader(Exchange.CONTENT_TYPE, "", String.class);
        ObjectNode request = JsonNodeFactory.instance.objectNode();
        String origin = http.getHeader("X-M2M-Origin", String.class);
        String requestId = http.getHeader("X-M2M-RI", String.class);
        if (origin == null || origin.isBlank() || requestId == null || requestId.isBlank()) {
            throw new Onem2mException(Onem2mException.BAD_REQUEST, "X-M2M-Origin and X-M2M-RI are required");
        }
        Serialization sent = Serialization.ofMediaType(contentType);
        if (!contentType.isEmpty() && (sent == null || sent.refusal() != null)) {
            throw new Onem2mException(Onem2mException.UNSUPPORTED_MEDIA_TYPE, "Content-Type " + contentType
                    + " is not supported: send JSON or CBOR");
        }
        String ty = contentType.replaceAll(".*;\\s*ty=(\\d+).*", "$1");
        int op = switch (method == null ? "" : method) {
            case "GET" -> 2;
            case "PUT" -> 3;
            case "DELETE" -> 4;
            case "POST" -> ty.equals(contentType) ? 5 : 1;
            default -> throw new Onem2mException(Onem2mException.BAD_REQUEST, "method " + method + " has no oneM2M operation");
        };
        request.put("op", op);
        request.put("to", target(http.getHeader(Exchange.HTTP_PATH, "", String.class)));
        request.put("fr", origin);
        request.put("rqi", requestId);
        if (op == 1) {
            request.put("ty", Integer.parseInt(ty));
        }
        String[][] headers = {{"X-M2M-RVI", "rvi"}, {"X-M2M-OT", "ot"}, {"X-M2M-RET", "rqet"}, {"X-M2M-RST", "rset"},
            {"X-M2M-OET", "oet"}, {"X-M2M-EC", "ec"}, {"X-M2M-GID", "gid"}, {"X-M2M-VSI", "vsi"}};
        for (String[] header : headers) {
            String value = http.getHeader(header[0], String.class);
            if (value != null) {
                request.put(header[1], value);
            }
        }
        query(http.getHeader(Exchange.HTTP_QUERY, String.class), request);
        byte[] body = http.getBody(byte[].class);
        if (body != null) {
            // no content (or only white space) reads as a missing node: no pc
            JsonNode content = Objects.requireNonNullElse(sent, Serialization.JSON).read(body);
            if (!content.isMissingNode()) {
                request.set("pc", content);
            }
        }
        return request;
    }

    /** {@code /~/cse/x} → {@code /cse/x}; {@code /_/sp/cse/x} → {@code //sp/cse/x}; {@code /base/x} → {@code base/x}. */
    static String target(String path) {
        String decoded = URLDecoder.decode(path, StandardCharsets.UTF_8);
        String relative = decoded.startsWith("/") ? decoded.substring(1) : decoded;
        if (relative.startsWith("~/")) {
            return relative.substring(1);
        }
        if (relative.startsWith("_/")) {
            return "/" + relative.substring(1);
        }
        return relative;
    }

    private static void query(String query, ObjectNode request) {
        if (query == null || query.isBlank()) {
            return;
        }
        for (String pair : query.split("&")) {
            String[] parts = pair.split("=", 2);
            String name = parts[0];
            String value = parts.length > 1 ? URLDecoder.decode(parts[1].replace("+", "%2B"), StandardCharsets.UTF_8) : "";
            JsonNode typed = value.matches("-?\\d+") ? JsonNodeFactory.instance.numberNode(Long.parseLong(value)) : JsonNodeFactory.instance.textNode(value);
            switch (name) {
                case "rcn", "rp", "da", "drt" -> request.set(name, typed);
                case "rt" -> request.putObject("rt").set("rtv", typed);
                default -> {
                    if (FILTER_CRITERIA.contains(name)) {
                        ObjectNode criteria = request.has("fc") ? (ObjectNode) request.get("fc") : request.putObject("fc");
                        if (NUMBER_LISTS.contains(name) || TEXT_LISTS.contains(name)) {
                            // several values as a+b, or the parameter repeated: one list either way
                            ArrayNode values = criteria.has(name) ? (ArrayNode) criteria.get(name) : criteria.putArray(name);
                            for (String one : value.split("\\+")) {
                                values.add(NUMBER_LISTS.contains(name) && one.matches("-?\\d+")
                                        ? JsonNodeFactory.instance.numberNode(Long.parseLong(one)) : JsonNodeFactory.instance.textNode(one));
                            }
                        } else {
                            criteria.set(name, typed);
                        }
                    }
                }
            }
        }
    }

    /** The HTTP response of a response primitive: status by the TS-0009 table, X-M2M-* headers, pc as the body. */
    private void respond(Message http, JsonNode response, Serialization body, long startedNanos) {
        int rsc = response.path("rsc").asInt(5000);
        metrics.response(rsc, startedNanos);
        // the request's headers must not go back as the response's
        http.getHeaders().clear();
        http.setHeader(Exchange.HTTP_RESPONSE_CODE, HttpBinding.httpStatus(rsc));
        http.setHeader("X-M2M-RSC", Integer.toString(rsc));
        http.setHeader("X-M2M-RI", response.path("rqi").asText());
        if (response.hasNonNull("rvi")) {
            http.setHeader("X-M2M-RVI", response.get("rvi").asText());
        }
        JsonNode content = response.get("pc");
        if (content != null && !content.isNull()) {
            http.setHeader(Exchange.CONTENT_TYPE, body.mediaType());
            if (rsc == 2001 && content.isObject() && content.elements().hasNext()) {
                String ri = content.elements().next().path("ri").asText("");
                if (!ri.isEmpty()) {
                    http.setHeader("Content-Location", ri);
                }
            }
            http.setBody(body.write(content));
        } else {
            http.setBody(new byte[0]);
        }
    }

    @Override
    public void onMessage(String topic, MqttMessage message, long receivedAtMillis) {
        try {
            OneM2mTopic parsed = OneM2mTopic.parse(topic);
            JsonNode response = Serialization.JSON.read(message.getPayload());
            CompletableFuture<JsonNode> waiting = pending.get(parsed.originator() + " " + response.path("rqi").asText());
            if (waiting != null) {
                waiting.complete(response);
            }
        } catch (Onem2mException e) {
            LOG.info("oneM2M: ignored a message on {}: {}", topic, e.getMessage());
        }
    }

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }

    public void setConnection(MqttConnection connection) {
        this.connection = connection;
    }

    /** CSE-ID of the CSE reached over MQTT (the receiver in the request topic). */
    public void setTargetCseId(String targetCseId) {
        this.targetCseId = targetCseId;
    }

    /** The AEs reached over HTTP, which learns those that register through this binding. */
    public void setPointsOfAccess(PointsOfAccess pointsOfAccess) {
        this.pointsOfAccess = pointsOfAccess;
    }

    /** Requests waiting for the CSE's response at once; more are answered busy (HTTP 503, rsc 5103, Retry-After). */
    public void setMaxInFlight(int maxInFlight) {
        this.maxInFlight = maxInFlight;
    }

    public void setTimeoutMillis(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }
}
