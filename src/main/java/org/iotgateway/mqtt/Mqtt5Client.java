package org.iotgateway.mqtt;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.SocketFactory;

import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttActionListener;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.MqttSubscription;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MQTT 5 through Paho's asynchronous v5 client. Each filter is subscribed with a subscription identifier of its own, so
 * that a copy of a message names the subscription it was sent for (see {@link MqttConnection#isCopyFor}).
 */
final class Mqtt5Client implements BrokerClient {

    private static final Logger LOG = LoggerFactory.getLogger(Mqtt5Client.class);

    private final MqttAsyncClient client;
    private final int keepAliveSeconds;
    private final int connectTimeoutSeconds;
    private final SocketFactory sockets;
    private final int sessionExpirySeconds;
    private final Map<TopicFilter, Integer> subscriptionIds = new ConcurrentHashMap<>();
    private final AtomicInteger lastSubscriptionId = new AtomicInteger();
    private volatile boolean subscriptionIdsAvailable = true;

    Mqtt5Client(String pahoUri, String clientId, int keepAliveSeconds, int connectTimeoutSeconds, SocketFactory sockets,
                int sessionExpirySeconds, Events events) throws MqttException {
        this.client = new MqttAsyncClient(pahoUri, clientId, new MemoryPersistence());
        this.keepAliveSeconds = keepAliveSeconds;
        this.connectTimeoutSeconds = connectTimeoutSeconds;
        this.sockets = sockets;
        this.sessionExpirySeconds = sessionExpirySeconds;
        client.setCallback(new MqttCallback() {
            @Override
            public void disconnected(MqttDisconnectResponse response) {
                events.lost(response.getException() != null ? MqttConnection.describe(response.getException())
                        : ReasonCodes.describe(response.getReturnCode()));
            }

            @Override
            public void mqttErrorOccurred(MqttException exception) {
                LOG.warn("MQTT 5 client {}: {}", clientId, MqttConnection.describe(exception));
            }

            @Override
            public void messageArrived(String topic, MqttMessage message) {
                events.message(topic, message);
            }

            @Override
            public void deliveryComplete(IMqttToken token) {
                // publish futures complete through their own listeners
            }

            @Override
            public void connectComplete(boolean reconnect, String serverUri) {
                // the connection subscribes after each successful connect
            }

            @Override
            public void authPacketArrived(int reasonCode, MqttProperties properties) {
                // no enhanced authentication is used
            }
        });
    }

    @Override
    public CompletableFuture<Void> connect(MqttCredentials.Credentials login) {
        MqttConnectionOptions options = new MqttConnectionOptions();
        // a session kept by the broker (sessionExpirySeconds > 0) holds QoS 1 messages sent while the gateway is away
        options.setCleanStart(sessionExpirySeconds == 0);
        if (sessionExpirySeconds > 0) {
            options.setSessionExpiryInterval((long) sessionExpirySeconds);
        }
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(keepAliveSeconds);
        options.setConnectionTimeout(connectTimeoutSeconds);
        // the broker's certificate must name the host of the URL (Paho's default, said here on purpose)
        options.setHttpsHostnameVerificationEnabled(true);
        options.setSocketFactory(sockets);
        if (login.username() != null && !login.username().isEmpty()) {
            options.setUserName(login.username());
        }
        if (login.password() != null && !login.password().isEmpty()) {
            options.setPassword(login.password().getBytes(StandardCharsets.UTF_8));
        }
        CompletableFuture<Void> connected = new CompletableFuture<>();
        try {
            client.connect(options, null, listener(connected, token -> {
                MqttProperties granted = token.getResponseProperties();
                subscriptionIdsAvailable = granted == null || granted.isSubscriptionIdentifiersAvailable();
                return null;
            }));
        } catch (MqttException e) {
            connected.completeExceptionally(e);
        }
        return connected;
    }

    @Override
    public CompletableFuture<int[]> subscribe(List<Subscription> subscriptions, boolean retainAsPublished) {
        if (!subscriptionIdsAvailable) {
            return subscribe(subscriptions, retainAsPublished, new MqttProperties());
        }
        // one SUBSCRIBE per filter: an identifier is a property of the whole packet
        CompletableFuture<?>[] each = new CompletableFuture<?>[subscriptions.size()];
        for (int i = 0; i < each.length; i++) {
            Subscription subscription = subscriptions.get(i);
            MqttProperties identified = new MqttProperties();
            identified.setSubscriptionIdentifier(subscriptionIds.computeIfAbsent(subscription.filter(),
                    filter -> lastSubscriptionId.incrementAndGet()));
            each[i] = subscribe(List.of(subscription), retainAsPublished, identified);
        }
        return CompletableFuture.allOf(each).thenApply(done -> {
            int[] reasons = new int[each.length];
            for (int i = 0; i < each.length; i++) {
                int[] one = (int[]) each[i].join();
                reasons[i] = one != null && one.length > 0 ? one[0] : 0x80;
            }
            return reasons;
        });
    }

    private CompletableFuture<int[]> subscribe(List<Subscription> subscriptions, boolean retainAsPublished,
                                               MqttProperties properties) {
        MqttSubscription[] mqtt = subscriptions.stream().map(subscription -> {
            MqttSubscription one = new MqttSubscription(subscription.filter().toString(), subscription.qos());
            one.setRetainAsPublished(retainAsPublished);
            return one;
        }).toArray(MqttSubscription[]::new);
        CompletableFuture<int[]> granted = new CompletableFuture<>();
        try {
            client.subscribe(mqtt, null, listener(granted, IMqttToken::getReasonCodes), properties);
        } catch (MqttException e) {
            granted.completeExceptionally(e);
        }
        return granted;
    }

    @Override
    public int subscriptionId(TopicFilter filter) {
        Integer id = subscriptionIds.get(filter);
        return id == null ? 0 : id;
    }

    @Override
    public CompletableFuture<Void> unsubscribe(TopicFilter filter) {
        subscriptionIds.remove(filter);
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            client.unsubscribe(new String[] {filter.toString()}, null, listener(done, token -> null), new MqttProperties());
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public CompletableFuture<Integer> publish(String topic, byte[] payload, int qos, boolean retain) {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        try {
            client.publish(topic, new MqttMessage(payload, qos, retain, new MqttProperties()), null, listener(done, token -> {
                int[] reasons = token.getReasonCodes();
                return reasons != null && reasons.length > 0 ? reasons[0] : 0;
            }));
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    private interface Result<T> {
        T of(IMqttToken token);
    }

    private static <T> MqttActionListener listener(CompletableFuture<T> future, Result<T> result) {
        return new MqttActionListener() {
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
            if (refusal) {
                client.disconnect(1000, null, null, 0x80, new MqttProperties());
            } else if (client.isConnected()) {
                client.disconnect(2000).waitForCompletion(3000);
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
        return "MQTT 5";
    }
}
