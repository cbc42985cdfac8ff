package org.iotgateway.testing;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import org.iotgateway.rabbitmq.AmqpUrl;

/**
 * A queue bound to the gateway's topic exchange, as a RabbitMQ consumer of the readings would bind one. Messages are
 * pushed to the test as they arrive, so they are in hand even if the broker stops afterwards.
 */
public final class AmqpQueue implements AutoCloseable {

    private final Connection connection;
    private final Channel channel;
    private final String queue;
    private final BlockingQueue<Delivery> received = new LinkedBlockingQueue<>();

    public AmqpQueue(String amqpUrl, String exchange, String bindingKey, String queueName) throws Exception {
        this(amqpUrl, exchange, bindingKey, queueName, true);
    }

    /** Declares (or reopens) a durable queue bound to the exchange; {@code purge} empties it first. */
    public AmqpQueue(String amqpUrl, String exchange, String bindingKey, String queueName, boolean purge) throws Exception {
        ConnectionFactory factory = AmqpUrl.parse(amqpUrl).connectionFactory();
        connection = factory.newConnection("gateway test consumer");
        channel = connection.createChannel();
        channel.exchangeDeclare(exchange, "topic", true);
        queue = channel.queueDeclare(queueName, true, false, false, null).getQueue();
        if (purge) {
            channel.queuePurge(queue);
        }
        channel.queueBind(queue, exchange, bindingKey);
        channel.basicConsume(queue, true, (tag, delivery) -> received.add(delivery), tag -> { });
    }

    /** The next message, or null when none arrives within the timeout. */
    public Delivery next(Duration timeout) throws InterruptedException {
        return received.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Deletes the queue and disconnects. */
    @Override
    public void close() throws Exception {
        channel.queueDelete(queue);
        connection.close();
    }

    /** Deletes the queue if the broker is still there (an embedded one stops with the gateway). */
    public void closeQuietly() {
        try {
            close();
        } catch (Exception brokerGone) {
            // nothing left to clean up
        }
    }

    /** Disconnects and leaves the queue in place. */
    public void disconnect() throws Exception {
        connection.close();
    }
}
