package org.iotgateway.mqtt;

import java.util.Map;
import java.util.TreeMap;

import org.apache.camel.Endpoint;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.PluginHelper;
import org.apache.camel.support.ResourceHelper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Topic filters reach the endpoint as a route file writes them: '+' stays a wildcard. */
class MqttComponentTest {

    @Test
    void should_keep_plus_and_hash_of_filters_in_yaml_parameters_and_in_the_uri() throws Exception {
        try (DefaultCamelContext camel = new DefaultCamelContext()) {
            MqttConnection connection = new MqttConnection();
            connection.setBrokerUrl("tcp://127.0.0.1:1");
            camel.getRegistry().bind("broker", connection);
            camel.build();
            PluginHelper.getRoutesLoader(camel).loadRoutes(ResourceHelper.fromString("filters.camel.yaml", """
                    - route:
                        id: as-parameters
                        from:
                          uri: mqtt:broker
                          parameters:
                            filters: "device/+/status@2,sensor/#,hall%20a/+"
                          steps:
                            - log: hi
                    - route:
                        id: in-the-uri
                        from:
                          uri: "mqtt:broker?filters=meter/+/reading"
                          steps:
                            - log: hi
                    - route:
                        id: in-raw
                        from:
                          uri: mqtt:broker
                          parameters:
                            filters: "RAW(old/+/style)"
                          steps:
                            - log: hi
                    """));
            camel.init();
            Map<String, String> filters = new TreeMap<>();
            for (Endpoint endpoint : camel.getEndpoints()) {
                if (endpoint instanceof MqttEndpoint mqtt) {
                    filters.put(mqtt.getFilters(), mqtt.getEndpointUri());
                }
            }
            assertThat(filters).containsOnlyKeys("device/+/status@2,sensor/#,hall a/+", "meter/+/reading", "old/+/style");
        }
    }
}
