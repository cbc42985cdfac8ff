package org.iotgateway.inverter;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.RejectedExecutionException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.iotgateway.GatewayMeters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON documents the inverter bridge publishes, as the original client writes them: a Modbus response carries the
 * request and the web API's answer verbatim; the gateway state is the API's state with {@code timestamp} and
 * {@code type}. Unlike the original, a failed request is answered too:
 * {@code "response":{"success":false,"error":"<reason>","status":<HTTP status or null>}}.
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

    /** The API's answer to a request that went through. */
    public String modbusSuccess(String request, String apiAnswer) {
        counters().succeeded.increment();
        return modbusResponse(request, true, generator -> generator.writeRawValue(apiAnswer.strip()));
    }

    /** A request that could not be carried out, answered with the specific reason. */
    public String modbusFailure(String request, Exception failure) {
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
        Integer httpStatus = status;
        return modbusResponse(request, isJson(request), generator -> {
            generator.writeStartObject();
            generator.writeBooleanField("success", false);
            generator.writeStringField("error", reason);
            if (httpStatus == null) {
                generator.writeNullField("status");
            } else {
                generator.writeNumberField("status", httpStatus);
            }
            generator.writeEndObject();
        });
    }

    /** The web API's state, stamped now and typed; a key of the API's own keeps its place, as Python's dict does. */
    public String state(String apiState) throws InverterFailure {
        JsonNode state;
        try {
            state = JSON.readTree(apiState);
        } catch (JsonProcessingException e) {
            throw new InverterFailure("GET /api/state answered with a body that is not JSON");
        }
        if (!(state instanceof ObjectNode object)) {
            throw new InverterFailure("GET /api/state answered with JSON that is not an object");
        }
        object.put("timestamp", timestamp());
        object.put("type", "gateway_state");
        counters().state.increment();
        return object.toString();
    }

    /** The original's fallback while the web API cannot give the state; uptime is the bridge's, in seconds. */
    public String stateUnavailable() {
        counters().stateUnavailable.increment();
        ObjectNode state = JSON.createObjectNode();
        state.put("timestamp", timestamp());
        state.put("type", "gateway_state");
        state.put("status", "api_unavailable");
        state.put("uptime", Duration.between(started, clock.instant()).toMillis() / 1000.0);
        state.put("version", "1.0.0");
        state.put("error", "Failed to fetch state from web container");
        return state.toString();
    }

    private interface JsonWriter {
        void write(JsonGenerator generator) throws IOException;
    }

    private String modbusResponse(String request, boolean requestIsJson, JsonWriter response) {
        StringWriter text = new StringWriter();
        try (JsonGenerator generator = JSON.getFactory().createGenerator(text)) {
            generator.writeStartObject();
            generator.writeStringField("timestamp", timestamp());
            generator.writeStringField("type", "modbus_response");
            generator.writeFieldName("request");
            if (requestIsJson) {
                generator.writeRawValue(request.strip());
            } else {
                // what arrived is not JSON: it is quoted, so that the response still is
                generator.writeString(request);
            }
            generator.writeFieldName("response");
            response.write(generator);
            generator.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    private static boolean isJson(String text) {
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
