package org.iotgateway.meters;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.iotgateway.mqttsn.MqttSnConstants;
import org.iotgateway.rabbitmq.RabbitMqConfirmedConstants;

/**
 * Sets the AMQP routing key from an MQTT topic name as RabbitMQ's MQTT plugin and the Python gateway do: levels
 * separated by '.' instead of '/', the single-level wildcard '*' instead of '+'
 * ({@code mr/94193A04010020B8/standard/json} becomes {@code mr.94193A04010020B8.standard.json}).
 * <p>
 * A processor rather than two nested {@code ${replace(...)}} steps: Simple re-parses a function with a nested
 * {@code ${...}} on every exchange, which cost a third of the memory the gateway allocated per reading.
 */
public class RoutingKeyFromTopic implements Processor {

    private String topicHeader = MqttSnConstants.TOPIC_NAME;

    @Override
    public void process(Exchange exchange) {
        Message message = exchange.getMessage();
        String topic = message.getHeader(topicHeader, String.class);
        if (topic == null) {
            throw new IllegalArgumentException("no " + topicHeader + " header to take the routing key from");
        }
        message.setHeader(RabbitMqConfirmedConstants.ROUTING_KEY, routingKey(topic));
    }

    static String routingKey(String topic) {
        return topic.replace('/', '.').replace('+', '*');
    }

    /** The header holding the MQTT topic name (default {@code CamelMqttSnTopicName}). */
    public void setTopicHeader(String topicHeader) {
        this.topicHeader = topicHeader;
    }
}
