package org.iotgateway.mqtt;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/** {@code mqtt:<connection>}: subscribe and publish over an {@link MqttConnection} bean of that name. */
@Component("mqtt")
public class MqttComponent extends DefaultComponent {

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        MqttConnection connection = getCamelContext().getRegistry().lookupByNameAndType(remaining, MqttConnection.class);
        if (connection == null) {
            throw new IllegalArgumentException("mqtt:" + remaining + " names no MqttConnection bean: declare one named '"
                    + remaining + "' in the route group's beans");
        }
        connection.nameAfter(remaining);
        MqttEndpoint endpoint = new MqttEndpoint(uri, this, remaining, connection);
        parameters.replaceAll((name, value) -> value instanceof String text ? decodeKeepingPlus(text) : value);
        setProperties(endpoint, parameters);
        return endpoint;
    }

    /**
     * The options as written: Camel's usual decoding turns the '+' of a topic filter ({@code device/+/status}) into a
     * space, and a route's YAML parameters reach the URI with '+' unencoded. So the query is taken raw and only
     * {@code %XX} is decoded; a space in a topic is written {@code %20}.
     */
    @Override
    public boolean useRawUri() {
        return true;
    }

    private static String decodeKeepingPlus(String value) {
        if (value.startsWith("RAW(") && value.endsWith(")") || value.startsWith("RAW{") && value.endsWith("}")) {
            return value.substring(4, value.length() - 1);
        }
        return URLDecoder.decode(value.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
