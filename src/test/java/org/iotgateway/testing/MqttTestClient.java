package org.iotgateway.testing;

import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

import javax.net.ssl.SSLSocketFactory;

import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.iotgateway.mqtt.NoDelaySockets;

/** Publishes to and subscribes at the broker the gateway uses, as a device or a cloud service would. */
public final class MqttTestClient implements AutoCloseable {

    // Paho's "too many publishes in progress"
    private static final int MAX_INFLIGHT = 32202;

    /** A message received on a subscription, with the time it arrived. */
    public record Received(String topic, byte[] payload, long atMillis) {

        /** The payload as UTF-8 text. */
        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }
    }

    private final MqttClient client;

    public MqttTestClient(String brokerUrl) throws MqttException {
        this(brokerUrl, null, null, null);
    }

    public MqttTestClient(String brokerUrl, String username, String password, SSLSocketFactory tls) throws MqttException {
        client = new MqttClient(brokerUrl, "test-" + UUID.randomUUID(), new MemoryPersistence());
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setMaxReconnectDelay(1000);
        if (username != null) {
            options.setUserName(username);
            options.setPassword(password.getBytes(StandardCharsets.UTF_8));
        }
        // as the gateway's clients do: without TCP_NODELAY each request/response exchange waits for a delayed ACK
        options.setSocketFactory(tls != null ? tls : NoDelaySockets.plain());
        client.connect(options);
    }

    public void publish(String topic, byte[] payload, int qos, boolean retain) throws MqttException, InterruptedException {
        while (true) {
            try {
                client.publish(topic, payload, qos, retain);
                return;
            } catch (MqttException e) {
                // Paho counts a publish as in flight a moment after its token completes
                if (e.getReasonCode() != MAX_INFLIGHT) {
                    throw e;
                }
                Thread.sleep(1);
            }
        }
    }

    /** Subscribes with QoS 1; what arrives is queued. */
    public BlockingQueue<Received> subscribe(String filter) throws MqttException {
        BlockingQueue<Received> received = new LinkedBlockingQueue<>();
        client.subscribe(new MqttSubscription[] {new MqttSubscription(filter, 1)}, new org.eclipse.paho.mqttv5.client.IMqttMessageListener[] {
            (topic, message) -> received.add(new Received(topic, message.getPayload(), System.currentTimeMillis()))});
        return received;
    }

    @Override
    public void close() throws MqttException {
        client.disconnect();
        client.close();
    }
}
