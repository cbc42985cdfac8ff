package org.iotgateway.mqtt;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
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
    /** MQTT 5's receive maximum when the CONNACK gives none. */
    private static final int RECEIVE_MAXIMUM_DEFAULT = 65535;

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

    /** Publishes not handed to Paho yet, in order: they wait for a place in the window. */
    private final Deque<Outgoing> waitingForWindow = new ArrayDeque<>();
    /** Places for publishes under way: the broker's receive maximum, from its CONNACK. */
    private final Window window = new Window(RECEIVE_MAXIMUM_DEFAULT);
    private int windowSize = RECEIVE_MAXIMUM_DEFAULT;

    /** A semaphore that can shrink without waiting: publishes under way keep their places. */
    private static final class Window extends Semaphore {
        Window(int places) {
            super(places);
        }

        void shrink(int places) {
            reducePermits(places);
        }
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
                Integer receiveMaximum = granted == null ? null : granted.getReceiveMaximum();
                resizeWindow(receiveMaximum == null ? RECEIVE_MAXIMUM_DEFAULT : receiveMaximum);
                return null;
            }));
        } catch (MqttException e) {
            connected.completeExceptionally(e);
        }
        return connected;
    }

    /** The broker may grant another window on each connect; publishes under way keep their places. */
    private void resizeWindow(int receiveMaximum) {
        int change = receiveMaximum - windowSize;
        windowSize = receiveMaximum;
        if (change > 0) {
            window.release(change);
        } else if (change < 0) {
            window.shrink(-change);
        }
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

    /**
     * Publishes in order; beyond the broker's receive maximum (Mosquitto: 20) a publish waits in this client until an
     * earlier one is done, where Paho would refuse it ("Too many publishes in progress") and a burst of answers would
     * lose some. Paho is never called with the queue's lock held.
     */
    @Override
    public CompletableFuture<Integer> publish(String topic, byte[] payload, int qos, boolean retain) {
        Outgoing message = new Outgoing(topic, new MqttMessage(payload, qos, retain, new MqttProperties()), new CompletableFuture<>());
        synchronized (waitingForWindow) {
            if (!waitingForWindow.isEmpty() || !window.tryAcquire()) {
                waitingForWindow.addLast(message);
                return message.done();
            }
        }
        send(message);
        return message.done();
    }

    private record Outgoing(String topic, MqttMessage message, CompletableFuture<Integer> done) {
    }

    /** Sends a message that holds a place in the window; when it is done, the place goes to the next waiting. */
    private void send(Outgoing message) {
        try {
            client.publish(message.topic(), message.message(), null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    int[] reasons = token.getReasonCodes();
                    message.done().complete(reasons != null && reasons.length > 0 ? reasons[0] : 0);
                    windowFreed();
                }

                @Override
                public void onFailure(IMqttToken token, Throwable failure) {
                    message.done().completeExceptionally(failure);
                    windowFreed();
                }
            });
        } catch (MqttException e) {
            message.done().completeExceptionally(e);
            windowFreed();
        }
    }

    private void windowFreed() {
        Outgoing next;
        synchronized (waitingForWindow) {
            next = waitingForWindow.pollFirst();
            if (next == null) {
                window.release();
            }
        }
        if (next != null) {
            send(next);
        }
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
