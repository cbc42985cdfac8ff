package org.iotgateway;

import java.io.InputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The build generates, for each of our components, the catalog JSON that Camel's tooling reads, as for Camel's own. */
class ComponentCatalogTest {

    @ParameterizedTest
    @ValueSource(strings = {"mqttsn", "mqtt", "rabbitmq-confirmed", "live", "channels"})
    void should_describe_every_option_of_our_components_where_camel_tooling_looks(String scheme) throws Exception {
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            String json = context.getComponentParameterJsonSchema(scheme);
            assertThat(json).as("catalog JSON of " + scheme + ":").isNotNull();
            JsonNode catalog = new ObjectMapper().readTree(json);
            assertThat(catalog.at("/component/scheme").asText()).isEqualTo(scheme);
            assertThat(catalog.at("/component/title").asText()).isNotBlank();
            assertThat(catalog.path("properties").size()).isGreaterThan(3);
            catalog.path("properties").properties().forEach(option -> {
                assertThat(option.getValue().path("displayName").asText()).as(option.getKey()).isNotBlank();
                assertThat(option.getValue().path("description").asText()).as(option.getKey()).isNotBlank();
            });
            assertThat(context.getCamelContextExtension().getEndpointUriFactory(scheme)).as("URI factory of " + scheme + ":").isNotNull();
        }
    }

    @Test
    void should_mark_connection_strings_and_tokens_as_secret() throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/META-INF/org/iotgateway/mqttsn/mqttsn.json")) {
            JsonNode catalog = new ObjectMapper().readTree(in);
            assertThat(catalog.at("/properties/valkeyConnectionString/secret").asBoolean()).isTrue();
        }
        try (InputStream in = getClass().getResourceAsStream("/META-INF/org/iotgateway/rabbitmq/rabbitmq-confirmed.json")) {
            JsonNode catalog = new ObjectMapper().readTree(in);
            assertThat(catalog.at("/properties/connectionString/secret").asBoolean()).isTrue();
        }
        try (InputStream in = getClass().getResourceAsStream("/META-INF/org/iotgateway/live/live.json")) {
            JsonNode catalog = new ObjectMapper().readTree(in);
            assertThat(catalog.at("/properties/bearerToken/secret").asBoolean()).isTrue();
        }
        try (InputStream in = getClass().getResourceAsStream("/META-INF/org/iotgateway/channels/channels.json")) {
            JsonNode catalog = new ObjectMapper().readTree(in);
            assertThat(catalog.at("/properties/redisUrl/secret").asBoolean()).isTrue();
        }
    }
}
