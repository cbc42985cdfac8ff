package org.iotgateway.testing;

import java.util.UUID;

import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;

/** Publishes to the broker the gateway subscribes to, as a device would. */
public final class MqttTestClient implements AutoCloseable {

    // Paho's "too many publishes in progress"
    private static final int MAX_INFLIGHT = 32202;

    private final MqttClient client;

    public MqttTestClient(String brokerUrl) throws MqttException {
        client = new MqttClient(brokerUrl, "test-" + UUID.randomUUID(), new MemoryPersistence());
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setMaxReconnectDelay(1000);
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

    @Override
    public void close() throws MqttException {
        client.disconnect();
        client.close();
    }
}
