package org.iotgateway.mqtt;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.eclipse.paho.mqttv5.common.MqttMessage;

/**
 * One protocol version's client under {@link MqttConnection}: MQTT 5 ({@link Mqtt5Client}) or 3.1.1
 * ({@link Mqtt311Client}), for brokers that refuse MQTT 5. Every operation completes its future on the client's own
 * threads; reason codes are MQTT 5's (a 3.1.1 subscription failure is 0x80).
 */
interface BrokerClient {

    /** What the client reports to its connection, on its callback thread. */
    interface Events {
        void message(String topic, MqttMessage message);

        void lost(String reason);
    }

    CompletableFuture<Void> connect(MqttCredentials.Credentials login);

    /** Completes with one reason code per subscription (granted QoS, or 0x80 and above when refused). */
    CompletableFuture<int[]> subscribe(List<Subscription> subscriptions, boolean retainAsPublished);

    CompletableFuture<Void> unsubscribe(TopicFilter filter);

    /** The subscription identifier the filter was subscribed with, or 0 (MQTT 3.1.1 has none). */
    default int subscriptionId(TopicFilter filter) {
        return 0;
    }

    /** Completes with the broker's reason code for QoS 1/2 (0 when accepted), or 0 once a QoS 0 message is written. */
    CompletableFuture<Integer> publish(String topic, byte[] payload, int qos, boolean retain);

    boolean isConnected();

    /** Ends the connection without waiting long; {@code refusal} says it is dropped for a fault (MQTT 5 reason 0x80). */
    void disconnect(boolean refusal);

    void close();

    String protocol();
}
