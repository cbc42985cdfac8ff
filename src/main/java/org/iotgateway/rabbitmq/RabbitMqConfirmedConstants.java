package org.iotgateway.rabbitmq;

import org.apache.camel.spi.Metadata;

/** Headers the {@code rabbitmq-confirmed:} producer reads. */
public final class RabbitMqConfirmedConstants {

    @Metadata(description = "The routing key of the message; required, at most 255 bytes of UTF-8.", javaType = "String")
    public static final String ROUTING_KEY = "CamelAmqpRoutingKey";
    @Metadata(description = "The AMQP message id, for consumers to de-duplicate on; none when absent.", javaType = "String")
    public static final String MESSAGE_ID = "CamelAmqpMessageId";

    private RabbitMqConfirmedConstants() {
    }
}
