package org.iotgateway.meters;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.iotgateway.mqttsn.MqttSnConstants;

/**
 * The way back of {@link RoutingKeyFromTopic}: the MQTT topic of a message taken from RabbitMQ, from its routing key
 * ({@code cmd.meter-7.valve} becomes {@code cmd/meter-7/valve}), in {@code CamelMqttSnTopicName}.
 * <p>
 * A processor rather than {@code ${header.CamelSpringRabbitmqRoutingKey.replace('.', '/')}}: Simple looks that method
 * up by reflection for every message, which cost the downlink more than the store did.
 */
public class TopicFromRoutingKey implements Processor {

    private String routingKeyHeader = "CamelSpringRabbitmqRoutingKey";

    @Override
    public void process(Exchange exchange) {
        Message message = exchange.getMessage();
        String routingKey = message.getHeader(routingKeyHeader, String.class);
        if (routingKey == null) {
            throw new IllegalArgumentException("no " + routingKeyHeader + " header to take the topic from");
        }
        message.setHeader(MqttSnConstants.TOPIC_NAME, topic(routingKey));
    }

    static String topic(String routingKey) {
        return routingKey.replace('.', '/');
    }

    /** The header holding the AMQP routing key (default {@code CamelSpringRabbitmqRoutingKey}). */
    public void setRoutingKeyHeader(String routingKeyHeader) {
        this.routingKeyHeader = routingKeyHeader;
    }
}
