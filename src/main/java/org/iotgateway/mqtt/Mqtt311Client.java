package org.iotgateway.mqtt;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import javax.net.SocketFactory;

import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttMessage;

/** MQTT 3.1.1 through Paho's asynchronous v3 client, for brokers without MQTT 5. */
final class Mqtt311Client implements BrokerClient {

    // Paho's v3 default of 10 unacknowledged publishes would refuse bursts ("too many publishes in progress")
    private static final int MAX_IN_FLIGHT = 1000;

    private final MqttAsyncClient client;
    private final int keepAliveSeconds;
    private final int connectTimeoutSeconds;
    private final SocketFactory sockets;
    private final int sessionExpirySeconds;

    Mqtt311Client(String pahoUri, String clientId, int keepAliveSeconds, int connectTimeoutSeconds, SocketFactory sockets,
                  int sessionExpirySeconds, Events events) throws MqttException {
        this.client = new MqttAsyncClient(pahoUri, clientId, new MemoryPersistence());
        this.keepAliveSeconds = keepAliveSeconds;
        this.connectTimeoutSeconds = connectTimeoutSeconds;
        this.sockets = sockets;
        this.sessionExpirySeconds = sessionExpirySeconds;
        client.setCallback(new MqttCallback() {
            @Override
            public void connectionLost(Throwable cause) {
                events.lost(MqttConnection.describe(cause));
            }

            @Override
            public void messageArrived(String topic, org.eclipse.paho.client.mqttv3.MqttMessage message) {
                MqttMessage same = new MqttMessage(message.getPayload(), message.getQos(), message.isRetained(), null);
                same.setDuplicate(message.isDuplicate());
                events.message(topic, same);
            }

            @Override
            public void deliveryComplete(IMqttDeliveryToken token) {
                // publish futures complete through their own listeners
            }
        });
    }

    @Override
    public CompletableFuture<Void> connect(MqttCredentials.Credentials login) {
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(sessionExpirySeconds == 0);
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(keepAliveSeconds);
        options.setConnectionTimeout(connectTimeoutSeconds);
        options.setMaxInflight(MAX_IN_FLIGHT);
        options.setHttpsHostnameVerificationEnabled(true);
        options.setSocketFactory(sockets);
        if (login.username() != null && !login.username().isEmpty()) {
            options.setUserName(login.username());
        }
        if (login.password() != null && !login.password().isEmpty()) {
            options.setPassword(login.password().toCharArray());
        }
        CompletableFuture<Void> connected = new CompletableFuture<>();
        try {
            client.connect(options, null, listener(connected, token -> null));
        } catch (MqttException e) {
            connected.completeExceptionally(e);
        }
        return connected;
    }

    @Override
    public CompletableFuture<int[]> subscribe(List<Subscription> subscriptions, boolean retainAsPublished) {
        String[] filters = subscriptions.stream().map(subscription -> subscription.filter().toString()).toArray(String[]::new);
        int[] qos = subscriptions.stream().mapToInt(Subscription::qos).toArray();
        CompletableFuture<int[]> granted = new CompletableFuture<>();
        try {
            // 3.1.1 has no "retain as published": live messages arrive with the retained flag cleared
            client.subscribe(filters, qos, null, listener(granted, IMqttToken::getGrantedQos));
        } catch (MqttException e) {
            granted.completeExceptionally(e);
        }
        return granted;
    }

    @Override
    public CompletableFuture<Void> unsubscribe(TopicFilter filter) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            client.unsubscribe(filter.toString(), null, listener(done, token -> null));
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public CompletableFuture<Integer> publish(String topic, byte[] payload, int qos, boolean retain) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        try {
            client.publish(topic, payload, qos, retain, null, listener(done, token -> 0));
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    private interface Result<T> {
        T of(IMqttToken token);
    }

    private static <T> IMqttActionListener listener(CompletableFuture<T> future, Result<T> result) {
        return new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
                future.complete(result.of(token));
            }

            @Override
            public void onFailure(IMqttToken token, Throwable failure) {
                future.completeExceptionally(failure);
            }
        };
    }

    @Override
    public boolean isConnected() {
        return client.isConnected();
    }

    @Override
    public void disconnect(boolean refusal) {
        try {
            if (client.isConnected()) {
                client.disconnect(refusal ? 0 : 2000).waitForCompletion(3000);
            }
        } catch (MqttException e) {
            // closing anyway
        }
    }

    @Override
    public void close() {
        try {
            client.close(true);
        } catch (MqttException e) {
            // closed anyway
        }
    }

    @Override
    public String protocol() {
        return "MQTT 3.1.1";
    }
}
