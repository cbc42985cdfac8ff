package org.iotgateway.mqtt;

import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.support.DefaultAsyncProducer;

/**
 * Publishes the body (bytes, or text as UTF-8) and completes the exchange when the broker has it: PUBACK/PUBCOMP for
 * QoS 1/2, the write for QoS 0. A broker that is not connected or refuses the message fails the exchange with the reason.
 */
public class MqttProducer extends DefaultAsyncProducer {

    MqttProducer(MqttEndpoint endpoint) {
        super(endpoint);
    }

    @Override
    public MqttEndpoint getEndpoint() {
        return (MqttEndpoint) super.getEndpoint();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        getEndpoint().connection().acquire();
    }

    @Override
    protected void doStop() throws Exception {
        getEndpoint().connection().release();
        super.doStop();
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        MqttEndpoint endpoint = getEndpoint();
        Message message = exchange.getMessage();
        try {
            // the connection checks the topic, for every publisher
            String topic = message.getHeader(MqttConstants.TOPIC, endpoint.getTopic(), String.class);
            int qos = message.getHeader(MqttConstants.QOS, endpoint.getQos(), Integer.class);
            if (qos < 0 || qos > 2) {
                throw new IllegalArgumentException("QoS " + qos + " is not 0, 1 or 2");
            }
            boolean retain = message.getHeader(MqttConstants.RETAINED, endpoint.isRetain(), Boolean.class);
            byte[] payload = message.getBody(byte[].class);
            endpoint.connection().publish(topic, payload == null ? new byte[0] : payload, qos, retain)
                    .whenComplete((ignored, failure) -> {
                        if (failure != null) {
                            exchange.setException(failure);
                        }
                        callback.done(false);
                    });
            return false;
        } catch (Exception e) {
            exchange.setException(e);
            callback.done(true);
            return true;
        }
    }
}
