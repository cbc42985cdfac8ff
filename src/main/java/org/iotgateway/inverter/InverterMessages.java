package org.iotgateway.inverter;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializable;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsontype.TypeSerializer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.iotgateway.GatewayMeters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The documents the inverter bridge publishes, as the original client writes them, for the route's {@code marshal: json}
 * step (camel-jackson): a Modbus response carries the request as it came and the web API's answer; the gateway state is
 * the API's state with {@code timestamp} and {@code type}. Unlike the original, a failed request is answered too:
 * {@code "response":{"success":false,"error":"<reason>","status":<HTTP status or null>}}. A bean rather than Simple
 * because the original's timestamps have microseconds and its echo keeps the request's own spacing.
 */
public class InverterMessages implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(InverterMessages.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** The original's datetime.utcnow().isoformat() + "Z", microseconds included; also the JWT request's iat/exp. */
    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final Clock clock;
    private final Instant started;
    private CamelContext camelContext;
    private volatile Counters counters;

    private record Counters(Counter succeeded, Counter failed, Counter state, Counter stateUnavailable) {
    }

    public InverterMessages() {
        this(Clock.systemUTC());
    }

    InverterMessages(Clock clock) {
        this.clock = clock;
        this.started = clock.instant();
    }

    /** The API's answer to a request that went through (as camel-jackson read it, or as a step reshaped it). */
    public Map<String, Object> modbusSuccess(String request, Object apiAnswer) {
        counters().succeeded.increment();
        return modbusResponse(request, true, apiAnswer);
    }

    /** A request that could not be carried out, answered with the specific reason. */
    public Map<String, Object> modbusFailure(String request, Exception failure) {
        counters().failed.increment();
        String reason;
        Integer status = null;
        if (failure instanceof InverterFailure known) {
            reason = known.getMessage();
            status = known.httpStatus();
        } else if (failure instanceof RejectedExecutionException) {
            reason = "the bridge is busy: too many requests are waiting (inverter.queue-size)";
        } else {
            LOG.warn("Modbus request failed in the bridge", failure);
            reason = "the bridge failed: " + failure;
        }
        LOG.info("Modbus request refused: {}", reason);
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("success", false);
        response.put("error", reason);
        response.put("status", status);
        // an empty MQTT message has no body at all: echoed as the empty text it was
        return modbusResponse(request == null ? "" : request, isJson(request), response);
    }

    /** The web API's state, stamped now and typed; a key of the API's own keeps its place, as Python's dict does. */
    public Map<String, Object> state(Map<String, Object> apiState) {
        Map<String, Object> state = new LinkedHashMap<>(apiState);
        state.put("timestamp", timestamp());
        state.put("type", "gateway_state");
        counters().state.increment();
        return state;
    }

    /** The original's fallback while the web API cannot give the state; uptime is the bridge's, in seconds. */
    public Map<String, Object> stateUnavailable() {
        counters().stateUnavailable.increment();
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("timestamp", timestamp());
        state.put("type", "gateway_state");
        state.put("status", "api_unavailable");
        state.put("uptime", Duration.between(started, clock.instant()).toMillis() / 1000.0);
        state.put("version", "1.0.0");
        state.put("error", "Failed to fetch state from web container");
        return state;
    }

    private Map<String, Object> modbusResponse(String request, boolean requestIsJson, Object response) {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("timestamp", timestamp());
        document.put("type", "modbus_response");
        // the request as it came, spacing included, as the original echoes it; quoted when it is not JSON
        document.put("request", requestIsJson ? new RawJson(request.strip()) : request);
        document.put("response", response);
        return document;
    }

    /** JSON text that Jackson writes as it is. */
    private record RawJson(String json) implements JsonSerializable {
        @Override
        public void serialize(JsonGenerator generator, SerializerProvider serializers) throws IOException {
            generator.writeRawValue(json);
        }

        @Override
        public void serializeWithType(JsonGenerator generator, SerializerProvider serializers, TypeSerializer typeSer)
                throws IOException {
            serialize(generator, serializers);
        }
    }

    private static boolean isJson(String text) {
        if (text == null) {
            return false;
        }
        try {
            JsonNode json = JSON.readTree(text);
            return json != null && !json.isMissingNode();
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    private String timestamp() {
        return TIMESTAMP.format(clock.instant());
    }

    private Counters counters() {
        Counters current = counters;
        if (current == null) {
            MeterRegistry registry = GatewayMeters.registry(camelContext);
            current = new Counters(
                    modbus(registry, "true"), modbus(registry, "false"),
                    Counter.builder("inverter.state.published").tag("status", "ok")
                            .description("Gateway state messages built for the state topic").register(registry),
                    Counter.builder("inverter.state.published").tag("status", "api_unavailable")
                            .description("Gateway state messages built for the state topic").register(registry));
            counters = current;
        }
        return current;
    }

    private static Counter modbus(MeterRegistry registry, String success) {
        return Counter.builder("inverter.modbus.responses").tag("success", success)
                .description("Modbus responses built for the response topic").register(registry);
    }

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }
}
