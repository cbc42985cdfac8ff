package org.iotgateway.mqttsn;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/**
 * The {@code mqttsn:host:port} component: an MQTT-SN 1.2 gateway on one UDP port ({@code from:}), and messages to the
 * devices subscribed on that gateway ({@code to:}, which sends through the consumer listening on the same port).
 */
@Component("mqttsn")
public class MqttSnComponent extends DefaultComponent {

    private final Map<Integer, MqttSnConsumer> listening = new ConcurrentHashMap<>();

    void listening(int port, MqttSnConsumer consumer) {
        listening.put(port, consumer);
    }

    void stoppedListening(int port, MqttSnConsumer consumer) {
        listening.remove(port, consumer);
    }

    /** The running gateway on the port, or null. */
    MqttSnConsumer listeningOn(int port) {
        return listening.get(port);
    }

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
