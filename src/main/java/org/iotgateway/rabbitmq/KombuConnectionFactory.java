package org.iotgateway.rabbitmq;

import java.security.NoSuchAlgorithmException;

import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;

/**
 * A camel-spring-rabbitmq connection from a URL in the Python gateway's (kombu's) form, which Spring's own
 * {@code uri} property reads differently ({@code amqp://host:5672//} is the vhost {@code /}, see {@link AmqpUrl}).
 * For route files: {@code type: org.iotgateway.rabbitmq.KombuConnectionFactory} with the URL as constructor argument.
 */
public class KombuConnectionFactory extends CachingConnectionFactory {

    public KombuConnectionFactory(String url) throws NoSuchAlgorithmException {
        super(withoutAutomaticRecovery(AmqpUrl.parse(url).connectionFactory()));
    }

    /** Spring AMQP recovers its connections itself, and warns when the client library would too. */
    private static com.rabbitmq.client.ConnectionFactory withoutAutomaticRecovery(com.rabbitmq.client.ConnectionFactory factory) {
        factory.setAutomaticRecoveryEnabled(false);
        return factory;
    }
}
