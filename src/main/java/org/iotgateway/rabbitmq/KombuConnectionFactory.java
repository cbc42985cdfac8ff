package org.iotgateway.rabbitmq;

import java.security.NoSuchAlgorithmException;
import java.util.concurrent.Executors;

import org.springframework.amqp.rabbit.connection.AbstractConnectionFactory.AddressShuffleMode;
import org.springframework.amqp.rabbit.connection.CachingConnectionFactory;
import org.springframework.scheduling.concurrent.CustomizableThreadFactory;

/**
 * A camel-spring-rabbitmq connection from a URL in the Python gateway's (kombu's) form, which Spring's own
 * {@code uri} property reads differently ({@code amqp://host:5672//} is the vhost {@code /}; a {@code ;}-separated
 * failover list; TLS arguments: see {@link AmqpUrl}).
 * For route files: {@code type: org.iotgateway.rabbitmq.KombuConnectionFactory} with the URL as constructor argument.
 * <p>
 * {@code consumerThreads} sets how many messages its consumers work on at once: the RabbitMQ client runs every
 * consumer of a connection on one pool, by default of twice the cores, whatever a route's {@code concurrentConsumers}
 * says; a step that waits (the store, a web service) then caps the rate at that many messages per wait.
 */
public class KombuConnectionFactory extends CachingConnectionFactory {

    public KombuConnectionFactory(String url) throws NoSuchAlgorithmException {
        this(AmqpUrl.parse(url));
    }

    private KombuConnectionFactory(AmqpUrl url) throws NoSuchAlgorithmException {
        super(withoutAutomaticRecovery(url.connectionFactory()));
        // the failover list's nodes, tried in random order as the meter ingest's own connection does
        setAddresses(url.addressList());
        setAddressShuffleMode(AddressShuffleMode.RANDOM);
    }

    /** Spring AMQP recovers its connections itself, and warns when the client library would too. */
    private static com.rabbitmq.client.ConnectionFactory withoutAutomaticRecovery(com.rabbitmq.client.ConnectionFactory factory) {
        factory.setAutomaticRecoveryEnabled(false);
        return factory;
    }

    /**
     * Threads delivering to this connection's consumers (their route steps run on them), named rabbitmq-consumer-N;
     * daemon threads, as the connection's own are, so that they never hold the JVM after the context stopped.
     */
    public void setConsumerThreads(int threads) {
        CustomizableThreadFactory named = new CustomizableThreadFactory("rabbitmq-consumer-");
        named.setDaemon(true);
        setExecutor(Executors.newFixedThreadPool(threads, named));
    }
}
