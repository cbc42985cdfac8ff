package org.iotgateway.testing;

import java.time.Duration;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import org.iotgateway.meters.AmqpUrl;

/** A queue bound to the gateway's topic exchange, as a RabbitMQ consumer of the readings would bind one. */
public final class AmqpQueue implements AutoCloseable {

    private final Connection connection;
    private final Channel channel;
    private final String queue;

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
    }

    /** The next message, or null when none arrives within the timeout. */
    public GetResponse next(Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            GetResponse response = channel.basicGet(queue, true);
            if (response != null) {
                return response;
            }
            Thread.sleep(10);
        } while (System.nanoTime() < deadline);
        return null;
    }

    public long messageCount() throws Exception {
        return channel.messageCount(queue);
    }

    /** Deletes the queue and disconnects. */
    @Override
    public void close() throws Exception {
        channel.queueDelete(queue);
        connection.close();
    }

    /** Disconnects and leaves the queue in place. */
    public void disconnect() throws Exception {
        connection.close();
    }
}
