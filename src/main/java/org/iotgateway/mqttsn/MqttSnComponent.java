package org.iotgateway.mqttsn;

import java.util.Map;

import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/** The {@code mqttsn:host:port} component: an MQTT-SN 1.2 gateway on one UDP port. */
@Component("mqttsn")
public class MqttSnComponent extends DefaultComponent {

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        MqttSnEndpoint endpoint = new MqttSnEndpoint(uri, this);
        int colon = remaining.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("mqttsn endpoint needs host:port, got '" + remaining + "'");
        }
        endpoint.setHost(remaining.substring(0, colon));
        endpoint.setPort(Integer.parseInt(remaining.substring(colon + 1)));
        setProperties(endpoint, parameters);
        return endpoint;
    }
}
