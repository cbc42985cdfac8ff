package org.iotgateway.mqtt;

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
        setProperties(endpoint, parameters);
        return endpoint;
    }
}
