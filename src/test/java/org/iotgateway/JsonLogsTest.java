package org.iotgateway;

import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.config.DefaultConfiguration;
import org.apache.logging.log4j.core.impl.Log4jLogEvent;
import org.apache.logging.log4j.layout.template.json.JsonTemplateLayout;
import org.apache.logging.log4j.message.SimpleMessage;
import org.apache.logging.log4j.util.SortedArrayStringMap;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The JSON log lines (GATEWAY_JSON_LOGS=true): ECS fields, and inside a route its group, id and the exchange's ids. */
class JsonLogsTest {

    private static final JsonTemplateLayout LAYOUT = JsonTemplateLayout.newBuilder()
            .setConfiguration(new DefaultConfiguration()).setEventTemplateUri("classpath:gateway-log.json").build();

    private static JsonNode log(Map<String, String> mdc) throws Exception {
        SortedArrayStringMap context = new SortedArrayStringMap();
        mdc.forEach(context::putValue);
        LogEvent event = Log4jLogEvent.newBuilder().setLoggerName("org.iotgateway.onem2m.CseBridge").setLevel(Level.INFO)
                .setMessage(new SimpleMessage("oneM2M request t1 answered 5103")).setContextData(context)
                .setThreadName("onem2m-request").build();
        return new ObjectMapper().readTree(LAYOUT.toSerializable(event));
    }

    @Test
    void should_name_the_route_group_route_and_exchange_of_a_line_logged_in_a_route() throws Exception {
        JsonNode line = log(Map.of("camel.routeId", "onem2m-request-to-http", "camel.exchangeId", "E-1",
                "camel.correlationId", "E-0", "camel.contextId", "iot-gateway", "device", "CAE1"));
        assertThat(line.path("@timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        assertThat(line.path("log.level").asText()).isEqualTo("INFO");
        assertThat(line.path("message").asText()).isEqualTo("oneM2M request t1 answered 5103");
        assertThat(line.path("log.logger").asText()).isEqualTo("org.iotgateway.onem2m.CseBridge");
        assertThat(line.path("service.name").asText()).isEqualTo("iot-gateway");
        assertThat(line.path("route.group").asText()).isEqualTo("onem2m");
        assertThat(line.path("route.id").asText()).isEqualTo("onem2m-request-to-http");
        assertThat(line.path("exchange.id").asText()).isEqualTo("E-1");
        assertThat(line.path("correlation.id").asText()).isEqualTo("E-0");
        assertThat(line.path("device").asText()).isEqualTo("CAE1");
        assertThat(line.has("camel.routeId")).isFalse();
    }

    @Test
    void should_leave_out_the_route_fields_of_a_line_logged_outside_routes() throws Exception {
        JsonNode line = log(Map.of());
        assertThat(line.has("route.id")).isFalse();
        assertThat(line.has("exchange.id")).isFalse();
        assertThat(line.path("route.group").asText("")).isEmpty();
    }
}
