package org.iotgateway.mqttsn;

import java.util.concurrent.TimeUnit;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.support.DefaultProducer;
import org.iotgateway.mqttsn.protocol.Decoder;
import org.iotgateway.mqttsn.protocol.TopicNames;

/**
 * {@code to: mqttsn:host:port}: sends the message to every device subscribed to its topic ({@code CamelMqttSnTopicName})
 * through the gateway listening on that port. Done when each subscriber has been sent the message or has it kept in
 * the store (asleep), so that the message a route consumed (from RabbitMQ, say) can be acknowledged then; the QoS 1
 * retries carry on in the gateway. Synchronous on purpose: the store answers on its client's I/O thread, and the steps
 * after this one are the operator's, so they stay on the route's own thread.
 */
public class MqttSnProducer extends DefaultProducer {

    /** MQTT-SN's 3-octet length, less PUBLISH's own 7 octets. */
    private static final int MAX_PAYLOAD = Decoder.MAX_MESSAGE_LENGTH - 7;
    private static final long STORE_WAIT_SECONDS = 10;

    public MqttSnProducer(MqttSnEndpoint endpoint) {
        super(endpoint);
    }

    @Override
    public MqttSnEndpoint getEndpoint() {
        return (MqttSnEndpoint) super.getEndpoint();
    }

    @Override
    public void process(Exchange exchange) throws Exception {
        MqttSnEndpoint endpoint = getEndpoint();
        MqttSnConsumer gateway = endpoint.getComponent().listeningOn(endpoint.getPort());
        Downlink downlink = gateway == null ? null : gateway.downlink();
        if (downlink == null) {
            throw new IllegalStateException("no MQTT-SN gateway with a downlink listens on port " + endpoint.getPort()
                    + " in this application (its from: mqttsn: endpoint needs amqpConnectionString and downlinkQueue)");
        }
        Message message = exchange.getMessage();
        String topic = message.getHeader(MqttSnConstants.TOPIC_NAME, String.class);
        if (topic == null) {
            throw new IllegalArgumentException("no " + MqttSnConstants.TOPIC_NAME + " header: the topic of the message for devices");
        }
        String refusal = TopicNames.refusal(topic, Decoder.MAX_MESSAGE_LENGTH);
        if (refusal != null) {
            throw new IllegalArgumentException("cannot send to devices on '" + topic + "': " + refusal);
        }
        int qos = message.getHeader(MqttSnConstants.QOS, endpoint.getQos(), Integer.class);
        if (qos < -1 || qos > 2) {
            throw new IllegalArgumentException(MqttSnConstants.QOS + " " + qos + ": a message for devices has QoS 0, 1 or 2");
        }
        byte[] payload = message.getBody(byte[].class);
        payload = payload == null ? new byte[0] : payload;
        if (payload.length > MAX_PAYLOAD) {
            throw new IllegalArgumentException("a payload of " + payload.length + " bytes exceeds MQTT-SN's " + MAX_PAYLOAD);
        }
        boolean retain = Boolean.TRUE.equals(message.getHeader(MqttSnConstants.RETAIN, Boolean.class));
        // a device's QoS -1 reading is sent on at QoS 0
        Downlink.Outcome outcome = downlink.deliver(topic, payload, Math.max(qos, 0), retain).toCompletableFuture()
                .get(STORE_WAIT_SECONDS, TimeUnit.SECONDS);
        message.setHeader(MqttSnConstants.SENT, outcome.sent());
        message.setHeader(MqttSnConstants.KEPT, outcome.kept());
        message.setHeader(MqttSnConstants.NOT_DELIVERED, outcome.notDelivered());
    }
}
