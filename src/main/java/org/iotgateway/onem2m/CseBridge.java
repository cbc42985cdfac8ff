package org.iotgateway.onem2m;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeException;
import org.apache.camel.Message;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.core5.http.io.entity.AbstractHttpEntity;
import org.iotgateway.GatewayMeters;
import org.iotgateway.mqtt.MqttConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * From the broker to HTTP: a request primitive becomes the TS-0009 HTTP request to the CSE, or, when its receiver is an
 * AE reached over HTTP ({@link PointsOfAccess}), the NOTIFY to that AE's point of access, which the route sends with
 * camel-http; the answer becomes the response
 * primitive published on the response topic built from the request topic, in the request's serialization (JSON or
 * CBOR; the HTTP side is JSON). Every request is answered: malformed ones with 4000, other operations than NOTIFY for an
 * AE with 4005, expired ones ({@code rqet}) with 4008, XML with 4015, and a target that does not answer in time with
 * 5103. A repeated {@code rqi} (QoS 1 redelivers) is dropped.
 */
public class CseBridge implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(CseBridge.class);
    /** Exchange properties the route's steps share. */
    public static final String REQUEST = "onem2mRequest";
    public static final String RECEIVER = "onem2mReceiver";
    public static final String RESPONSE_TOPIC = "onem2mResponseTopic";
    public static final String STARTED = "onem2mStarted";
    public static final String RSC = "onem2mRsc";
    public static final String SERIALIZATION = "onem2mSerialization";
    public static final String ATTEMPT = "onem2mAttempt";
    /** What the request is carried to, in words: "the CSE at …", "the AE … at …". */
    public static final String TARGET = "onem2mTarget";

    private CamelContext camelContext;
    private String cseUrl;
    private long timeoutMillis = 10000;
    private int duplicateWindowSeconds = 60;
    private boolean responsesWithoutSuffix;
    private PointsOfAccess pointsOfAccess = new PointsOfAccess();
    private volatile Cache<String, Attempt> recent;

    /** A request as it came, and the response it was given once published. */
    private static final class Attempt {
        final byte[] request;
        volatile byte[] response;

        Attempt(byte[] request) {
            this.request = request;
        }
    }
    private volatile Onem2mMetrics metrics;

    /** Reads the request off the MQTT message and makes it the HTTP request that the route's camel-http step sends. */
    public void request(Exchange exchange) throws Onem2mException, DuplicateRequestException {
        exchange.setProperty(STARTED, System.nanoTime());
        metrics().request();
        OneM2mTopic topic = OneM2mTopic.parse(exchange.getMessage().getHeader(MqttConstants.TOPIC, String.class));
        exchange.setProperty(RESPONSE_TOPIC, topic.responseTopic(responsesWithoutSuffix));
        exchange.setProperty(RECEIVER, topic.receiver());
        Serialization serialization = Serialization.ofTopicSuffix(topic.serialization());
        exchange.setProperty(SERIALIZATION, serialization);
        byte[] payload = exchange.getMessage().getBody(byte[].class);
        JsonNode request = serialization.read(payload);
        if (request == null || !request.isObject()) {
            throw new Onem2mException(Onem2mException.BAD_REQUEST,
                    "the request primitive is not an object (a map of short names)");
        }
        exchange.setProperty(REQUEST, request);
        if (serialization.refusal() != null) {
            throw serialization.refusal();
        }
        // an rqi that is a list or a map is refused below, each time: it names no request to recognise
        if (request.hasNonNull("rqi") && request.get("rqi").isValueNode()) {
            rememberOrRecognise(topic.originator() + " " + topic.receiver() + " " + request.get("rqi").asText(), payload,
                    exchange);
        }
        checkExpiry(request);
        toHttpMessage(HttpBinding.toHttp(request), request, topic.receiver(), exchange);
    }

    /**
     * The message camel-http sends: method, target URI and query as Camel's HTTP headers, the X-M2M-* headers, the
     * content; nothing of the MQTT message goes along. The target is the CSE, or for a NOTIFY the AE's point of access.
     */
    private void toHttpMessage(HttpBinding.HttpCall call, JsonNode request, String receiver, Exchange exchange)
            throws Onem2mException {
        URI pointOfAccess = pointsOfAccess.of(receiver);
        URI uri;
        if (pointOfAccess == null) {
            exchange.setProperty(TARGET, "the CSE at " + cseUrl);
            uri = URI.create(cseUrl.replaceAll("/+$", "") + call.pathAndQuery());
        } else if (request.path("op").asInt() == 5) {
            exchange.setProperty(TARGET, "the AE " + receiver + " at " + pointOfAccess);
            uri = notificationTarget(pointOfAccess, call);
        } else {
            throw new Onem2mException(Onem2mException.OPERATION_NOT_ALLOWED, "only NOTIFY is carried to the AE " + receiver
                    + " (its point of access is HTTP)");
        }
        Message message = exchange.getMessage();
        message.getHeaders().clear();
        call.headers().forEach(message::setHeader);
        message.setHeader(Exchange.HTTP_METHOD, call.method());
        message.setHeader(Exchange.HTTP_URI, uri.getScheme() + "://" + uri.getRawAuthority() + uri.getRawPath());
        if (uri.getRawQuery() != null) {
            message.setHeader(Exchange.HTTP_RAW_QUERY, uri.getRawQuery());
        }
        if (call.body() == null) {
            message.setBody(null);
        } else {
            // camel-http would re-format Content-Type from its parsed form ("application/json; ty=4"); TS-0009 writes
            // "application/json;ty=4", and that is what CSEs are tested with: the entity carries it as it is
            message.setBody(new Content(call.body().getBytes(StandardCharsets.UTF_8), (String) message.removeHeader("Content-Type")));
        }
    }

    /**
     * The same bytes under an rqi seen in the duplicate window are the broker's QoS 1 redelivery: answered with the
     * response already given (or, while the first is still under way, by that one). Other bytes under the same rqi are
     * a new request that reuses it, carried as any other.
     */
    private void rememberOrRecognise(String key, byte[] payload, Exchange exchange) throws DuplicateRequestException {
        Attempt attempt = new Attempt(payload);
        Attempt earlier = recent().asMap().putIfAbsent(key, attempt);
        if (earlier != null && Arrays.equals(earlier.request, payload)) {
            throw new DuplicateRequestException(key.substring(key.lastIndexOf(' ') + 1), earlier.response);
        }
        if (earlier != null) {
            recent().put(key, attempt);
        }
        exchange.setProperty(ATTEMPT, attempt);
    }

    /** A redelivered request: its earlier response becomes the body to publish again, or nothing is published yet. */
    public void redelivered(@ExchangeException DuplicateRequestException duplicate, Exchange exchange) {
        if (duplicate.response() == null) {
            LOG.debug("oneM2M: request {} came again while under way: its answer follows", duplicate.getMessage());
            exchange.removeProperty(RESPONSE_TOPIC);
        } else {
            LOG.debug("oneM2M: request {} came again: answered again", duplicate.getMessage());
            exchange.getMessage().setBody(duplicate.response());
        }
    }

    /** The request's content, with its Content-Type as written. */
    private static final class Content extends AbstractHttpEntity {
        private final byte[] bytes;

        Content(byte[] bytes, String contentType) {
            super(contentType, null, false);
            this.bytes = bytes;
        }

        @Override
        public InputStream getContent() {
            return new ByteArrayInputStream(bytes);
        }

        @Override
        public long getContentLength() {
            return bytes.length;
        }

        @Override
        public boolean isRepeatable() {
            return true;
        }

        @Override
        public boolean isStreaming() {
            return false;
        }

        @Override
        public void close() {
            // nothing held
        }
    }

    /** The answer of the CSE or AE (camel-http's response: status, X-M2M-RSC, content) as the response primitive. */
    public byte[] response(Exchange exchange) {
        Message answer = exchange.getMessage();
        byte[] body = Objects.requireNonNullElse(answer.getBody(byte[].class), new byte[0]);
        JsonNode content;
        try {
            content = body.length == 0 ? null : Serialization.JSON.read(body);
        } catch (Onem2mException notJson) {
            content = JsonNodeFactory.instance.objectNode().put("m2m:dbg", new String(body, StandardCharsets.UTF_8));
        }
        String rsc = answer.getHeader("X-M2M-RSC", String.class);
        return respond(HttpBinding.toResponse(exchange.getProperty(REQUEST, JsonNode.class), receiverId(exchange),
                answer.getHeader(Exchange.HTTP_RESPONSE_CODE, 500, Integer.class),
                rsc == null ? Map.of() : Map.of("X-M2M-RSC", List.of(rsc)), content), exchange);
    }

    /**
     * Where a NOTIFY for an AE goes: its point of access as given when that names a path (the AE chose where it takes
     * notifications, and CSEs post there), else, per TS-0009 6.2.2.1, the path of the request's {@code to} on that host.
     */
    static URI notificationTarget(URI pointOfAccess, HttpBinding.HttpCall call) {
        String path = pointOfAccess.getRawPath();
        return path == null || path.isEmpty() || path.equals("/") ? pointOfAccess.resolve(call.pathAndQuery()) : pointOfAccess;
    }

    /** The answer to a request the bridge could not carry to the CSE. */
    public byte[] failure(@ExchangeException Exception failure, Exchange exchange) {
        failure = unreachable(failure, exchange.getProperty(TARGET, String.class));
        JsonNode request = exchange.getProperty(REQUEST, JsonNode.class);
        int rsc = failure instanceof Onem2mException known ? known.rsc() : 5000;
        if (!(failure instanceof Onem2mException)) {
            LOG.warn("oneM2M request failed in the bridge", failure);
        }
        LOG.info("oneM2M request {} answered {}: {}", request == null ? "(unreadable)" : request.path("rqi").asText(), rsc,
                failure.getMessage());
        return respond(HttpBinding.errorResponse(request, receiverId(exchange), rsc, failure.getMessage()), exchange);
    }

    /** What an I/O failure of the HTTP call means for oneM2M: the target is not reachable (5103), and why. */
    private Exception unreachable(Exception failure, String target) {
        if (target == null || !(failure instanceof IOException)) {
            return failure;
        }
        if (failure instanceof SocketTimeoutException || failure instanceof ConnectTimeoutException) {
            metrics().timeout();
            return new Onem2mException(Onem2mException.TARGET_NOT_REACHABLE, target + " did not answer within " + timeoutMillis + " ms");
        }
        if (failure instanceof ConnectException) {
            return new Onem2mException(Onem2mException.TARGET_NOT_REACHABLE, target + " is unreachable");
        }
        return new Onem2mException(Onem2mException.TARGET_NOT_REACHABLE, target + " failed to answer: " + failure);
    }

    /**
     * The ID the response is from: the receiver of the request topic, unmasked: a CSE's ID SP-relative ({@code /mn-cse-1}),
     * an AE's as the topic gives it.
     */
    private String receiverId(Exchange exchange) {
        String receiver = exchange.getProperty(RECEIVER, String.class);
        if (receiver == null) {
            return null;
        }
        boolean cse = pointsOfAccess.of(receiver) == null;
        return cse || receiver.contains(":") ? "/" + receiver.replace(':', '/') : receiver;
    }

    /** The response primitive in the request's serialization (JSON when the request could not be read as far). */
    private static byte[] respond(JsonNode response, Exchange exchange) {
        exchange.setProperty(RSC, response.path("rsc").asInt());
        return exchange.getProperty(SERIALIZATION, Serialization.JSON, Serialization.class).write(response);
    }

    /**
     * Keeps the response for a redelivery of the request, before it is published: the AE may send the request again as
     * soon as it has the response, before the broker has acknowledged its publication.
     */
    public void remember(Exchange exchange) {
        Attempt attempt = exchange.getProperty(ATTEMPT, Attempt.class);
        if (attempt != null) {
            attempt.response = exchange.getMessage().getBody(byte[].class);
        }
    }

    /** Counts the response by its status and the time from the request's arrival, once it is handed to the broker. */
    public void answered(Exchange exchange) {
        metrics().response(exchange.getProperty(RSC, 5000, Integer.class), exchange.getProperty(STARTED, Long.class));
    }

    /** {@code rqet}: an absolute time (20261122T010415[,fraction]) or, as some peers send, a relative one in ms. */
    private static void checkExpiry(JsonNode request) throws Onem2mException {
        if (!request.hasNonNull("rqet")) {
            return;
        }
        String expiry = request.get("rqet").asText();
        if (expiry.matches("\\d+")) {
            return;
        }
        try {
            LocalDateTime at = LocalDateTime.parse(expiry.replaceAll("[,.]\\d+$", "").replace("Z", ""),
                    DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss"));
            if (at.toInstant(ZoneOffset.UTC).isBefore(java.time.Instant.now())) {
                throw new Onem2mException(Onem2mException.REQUEST_TIMEOUT, "the request expired at " + expiry + " (rqet)");
            }
        } catch (DateTimeParseException e) {
            throw new Onem2mException(Onem2mException.BAD_REQUEST, "rqet '" + expiry + "' is not a oneM2M time");
        }
    }

    private Cache<String, Attempt> recent() {
        Cache<String, Attempt> cache = recent;
        if (cache == null) {
            synchronized (this) {
                if (recent == null) {
                    recent = Caffeine.newBuilder().expireAfterWrite(Duration.ofSeconds(duplicateWindowSeconds)).maximumSize(100_000).build();
                }
                cache = recent;
            }
        }
        return cache;
    }

    private Onem2mMetrics metrics() {
        Onem2mMetrics current = metrics;
        if (current == null) {
            current = new Onem2mMetrics(GatewayMeters.registry(camelContext), "mqtt_to_http");
            metrics = current;
        }
        return current;
    }

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }

    /** Base URL of the CSE's HTTP binding, e.g. http://cse:8080 (requests go to its paths /cse-base/..., /~/..., /_/...). */
    public void setCseUrl(String cseUrl) {
        this.cseUrl = cseUrl;
    }

    /** The AEs whose requests (notifications) go to their HTTP point of access instead of the CSE. */
    public void setPointsOfAccess(PointsOfAccess pointsOfAccess) {
        this.pointsOfAccess = pointsOfAccess;
    }

    /** The HTTP call's timeout, as the route's camel-http step has it: named in the answer when it runs out. */
    public void setTimeoutMillis(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    /** How long a request id is remembered to drop its redeliveries. */
    public void setDuplicateWindowSeconds(int duplicateWindowSeconds) {
        this.duplicateWindowSeconds = duplicateWindowSeconds;
    }

    /** OpenMTC compatibility: answer on /oneM2M/resp/<originator>/<receiver> without the serialization suffix. */
    public void setResponsesWithoutSuffix(boolean responsesWithoutSuffix) {
        this.responsesWithoutSuffix = responsesWithoutSuffix;
    }
}
