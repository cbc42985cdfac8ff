package org.iotgateway.mqttsn;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import org.iotgateway.rabbitmq.AmqpUrl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bindings of the downlink queue: one per topic filter devices subscribe to, with the routing key the filter
 * becomes on the way up ({@code cmd/+/set} → {@code cmd.*.set}), so that the queue receives only what some device
 * subscribed to, as RabbitMQ's MQTT plugin binds a subscriber's queue. The downlink route consumes the queue (several
 * instances share it); this class only declares it and keeps its bindings, on a thread of its own, as these are
 * blocking calls that must not hold the UDP socket's thread.
 */
final class DownlinkBindings implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DownlinkBindings.class);

    private final AmqpUrl url;
    private final String exchange;
    private final String queue;
    /** x-queue-type: classic or quorum */
    private final String queueType;
    private final ExecutorService thread;
    private Connection connection;
    private Channel channel;

    DownlinkBindings(String amqpUrl, String exchange, String queue, String queueType, ExecutorService thread) {
        if (!queueType.equals("classic") && !queueType.equals("quorum")) {
            throw new IllegalArgumentException("downlinkQueueType is classic or quorum, not '" + queueType + "'");
        }
        this.url = AmqpUrl.parse(amqpUrl);
        this.exchange = exchange;
        this.queue = queue;
        this.queueType = queueType;
        this.thread = thread;
    }

    /**
     * Declares the exchange and the queue, waiting at most a few seconds, so that the downlink route finds the queue when
     * it starts; a RabbitMQ that does not answer is tried again at the first subscription.
     */
    void declare() {
        try {
            call(this::channel).toCompletableFuture().get(10, TimeUnit.SECONDS);
            LOG.info("Downlink: queue {} on exchange {} at {}", queue, exchange, url);
        } catch (Exception e) {
            LOG.warn("Downlink: queue {} not declared yet ({}); tried again at the first SUBSCRIBE", queue,
                    e instanceof ExecutionException ? e.getCause().toString() : e.toString());
        }
    }

    /** The routing key a topic filter binds: levels separated by '.', '+' as '*', '#' as it is. */
    static String bindingKey(String filter) {
        return filter.replace('/', '.').replace('+', '*');
    }

    CompletionStage<Void> bind(String filter) {
        return call(() -> channel().queueBind(queue, exchange, bindingKey(filter)));
    }

    CompletionStage<Void> unbind(String filter) {
        return call(() -> channel().queueUnbind(queue, exchange, bindingKey(filter)));
    }

    private interface AmqpCall {
        void run() throws Exception;
    }

    private CompletionStage<Void> call(AmqpCall call) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        thread.execute(() -> {
            try {
                call.run();
                done.complete(null);
            } catch (Exception e) {
                closeQuietly();
                done.completeExceptionally(e);
            }
        });
        return done;
    }

    private Channel channel() throws Exception {
        if (channel != null && channel.isOpen()) {
            return channel;
        }
        closeQuietly();
        ConnectionFactory factory = url.connectionFactory();
        factory.setConnectionTimeout(5000);
        factory.setAutomaticRecoveryEnabled(false);
        connection = url.connect(factory, "mqttsn downlink bindings");
        channel = connection.createChannel();
        channel.exchangeDeclare(exchange, "topic", true);
        channel.queueDeclare(queue, true, false, false, Map.of("x-queue-type", queueType));
        return channel;
    }

    private void closeQuietly() {
        if (connection != null) {
            try {
                connection.close(2000);
            } catch (IOException | RuntimeException e) {
                LOG.debug("Downlink bindings connection closed with {}", e.toString());
            }
        }
        connection = null;
        channel = null;
    }

    @Override
    public void close() {
        thread.execute(this::closeQuietly);
    }
}
