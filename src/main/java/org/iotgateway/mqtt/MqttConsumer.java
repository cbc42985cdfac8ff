package org.iotgateway.mqtt;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.support.DefaultConsumer;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * Runs the route for every message of its subscriptions on the connection's callback thread, so that messages keep the
 * broker's order. The broker gets the QoS 1/2 acknowledgement once the route has run or handed the message off (to
 * {@code threads}, or to a producer that completes later).
 */
public class MqttConsumer extends DefaultConsumer implements MqttConnection.MessageListener {

    private final List<Subscription> subscriptions;
    private final DynamicSubscriptions.Subscriber subscriber = new DynamicSubscriptions.Subscriber() {
        @Override
        public CompletableFuture<Void> subscribe(Subscription subscription) {
            return getEndpoint().connection().subscribe(MqttConsumer.this, subscription);
        }

        @Override
        public CompletableFuture<Void> unsubscribe(TopicFilter filter) {
            return getEndpoint().connection().unsubscribe(MqttConsumer.this, filter);
        }
    };

    MqttConsumer(MqttEndpoint endpoint, Processor processor, List<Subscription> subscriptions) {
        super(endpoint, processor);
        this.subscriptions = subscriptions;
    }

    @Override
    public MqttEndpoint getEndpoint() {
        return (MqttEndpoint) super.getEndpoint();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        MqttConnection connection = getEndpoint().connection();
        connection.register(subscriptions, this);
        DynamicSubscriptions dynamic = getEndpoint().getSubscriptions();
        if (dynamic != null) {
            for (Subscription wanted : dynamic.attach(subscriber)) {
                connection.subscribe(this, wanted);
            }
        }
        connection.acquire();
    }

    @Override
    public boolean takesEveryCopy() {
        return getEndpoint().isEveryCopy();
    }

    @Override
    protected void doStop() throws Exception {
        MqttConnection connection = getEndpoint().connection();
        if (getEndpoint().getSubscriptions() != null) {
            getEndpoint().getSubscriptions().detach(subscriber);
        }
        connection.unregister(this);
        connection.release();
        super.doStop();
    }

    @Override
    public void onMessage(String topic, MqttMessage mqttMessage, long receivedAtMillis) {
        Exchange exchange = createExchange(true);
        copy(topic, mqttMessage, receivedAtMillis, exchange.getMessage());
        // asynchronously: a route that publishes on this connection, or hands off to threads, must not hold the
        // callback thread that completes its publish (waiting for it there would deadlock)
        getAsyncProcessor().process(exchange, doneSync -> {
            if (exchange.getException() != null) {
                getExceptionHandler().handleException("Processing the MQTT message on '" + topic + "'", exchange,
                        exchange.getException());
            }
            releaseExchange(exchange, false);
        });
    }

    /** The MQTT message as a Camel message: payload bytes as the body, the {@link MqttConstants} headers. */
    public static void copy(String topic, MqttMessage mqttMessage, long receivedAtMillis, Message message) {
        message.setBody(mqttMessage.getPayload());
        message.setHeader(MqttConstants.TOPIC, topic);
        message.setHeader(MqttConstants.QOS, mqttMessage.getQos());
        message.setHeader(MqttConstants.RETAINED, mqttMessage.isRetained());
        message.setHeader(MqttConstants.DUPLICATE, mqttMessage.isDuplicate());
        message.setHeader(MqttConstants.RECEIVED_AT, receivedAtMillis);
        message.setHeader(MqttConstants.SUBSCRIPTION_IDS, MqttConnection.subscriptionIds(mqttMessage));
    }
}
