package org.iotgateway.mqtt;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocketFactory;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.support.service.ServiceHelper;
import org.apache.camel.support.service.ServiceSupport;
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
import org.iotgateway.GatewayMeters;
import org.iotgateway.ReadinessCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One MQTT 5 client connection shared by the {@code mqtt:} endpoints that name it. Unlike camel-paho-mqtt5 it reconnects
 * by itself with backoff, re-subscribes every filter after every connect and checks the broker's answer (a refused,
 * unanswered or lost subscription never leaves a connection that silently receives nothing, CAMEL-24511), passes the
 * retained flag on, and reports readiness and reconnects.
 * Declared as a bean in a route group's YAML; started by the first endpoint that uses it, stopped by the last.
 */
public class MqttConnection extends ServiceSupport implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);
    // Paho logs through java.util.logging, at INFO for every QoS 2 handshake; kept here so the setting is not collected
    private static final java.util.logging.Logger PAHO_LOG = java.util.logging.Logger.getLogger("org.eclipse.paho.mqttv5.client");

    static {
        PAHO_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    /** Receives the messages of one consumer's subscriptions, on the connection's single callback thread. */
    public interface MessageListener {
        void onMessage(String topic, MqttMessage message, long receivedAtMillis);
    }

    private record Registration(List<Subscription> subscriptions, MessageListener listener) {
    }

    private CamelContext camelContext;
    private String name;
    private String brokerUrl;
    private String clientId;
    private String username;
    private String password;
    private MqttCredentials credentials;
    private String trustedCa;
    private String clientCertificate;
    private String clientKey;
    private SSLSocketFactory tlsSocketFactory;
    private boolean retainAsPublished = true;
    private int keepAliveSeconds = 30;
    private int connectTimeoutSeconds = 10;
    private long reconnectDelayMillis = 1000;
    private long maxReconnectDelayMillis = 30000;

    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private final AtomicInteger users = new AtomicInteger();
    private ScheduledExecutorService connector;
    private MqttAsyncClient client;
    private volatile boolean subscribed;
    private volatile String problem = "not connected yet";
    private volatile long attempt;
    private final AtomicBoolean retryPending = new AtomicBoolean();
    private final AtomicLong subscribeRounds = new AtomicLong();
    private boolean everConnected;
    private Counter reconnects;
    private Counter messagesIn;
    private ReadinessCheck healthCheck;

    /** Starts the connection for one more endpoint. */
    public void acquire() {
        if (users.getAndIncrement() == 0) {
            start();
        }
    }

    /** Stops the connection when the last endpoint using it stops. */
    public void release() {
        if (users.decrementAndGet() == 0) {
            stop();
        }
    }

    /** Adds a consumer's subscriptions; they are subscribed now if connected, and after every connect. */
    public void register(List<Subscription> subscriptions, MessageListener listener) {
        Registration registration = new Registration(new CopyOnWriteArrayList<>(subscriptions), listener);
        registrations.add(registration);
        MqttAsyncClient current = client;
        if (current != null && current.isConnected()) {
            connector.execute(() -> subscribe(current, List.of(registration)));
        }
    }

    public void unregister(MessageListener listener) {
        registrations.removeIf(registration -> registration.listener == listener);
    }

    /**
     * Adds a filter to a registered listener's subscriptions at run time; it is subscribed again after every
     * reconnect. Completes when the broker granted it (at once while disconnected: the next connect subscribes it).
     */
    public CompletableFuture<Void> subscribe(MessageListener listener, Subscription subscription) {
        Registration registration = registrationOf(listener);
        registration.subscriptions().removeIf(existing -> existing.filter().equals(subscription.filter()));
        registration.subscriptions().add(subscription);
        MqttAsyncClient current = client;
        if (current == null || !current.isConnected()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> granted = new CompletableFuture<>();
        try {
            current.subscribe(new MqttSubscription[] {toMqtt(subscription)}, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    List<String> refused = refusals(new MqttSubscription[] {toMqtt(subscription)}, token.getReasonCodes());
                    if (refused.isEmpty()) {
                        granted.complete(null);
                    } else {
                        registration.subscriptions().remove(subscription);
                        granted.completeExceptionally(new IllegalStateException("the broker refused " + refused.get(0)));
                    }
                }

                @Override
                public void onFailure(IMqttToken token, Throwable failure) {
                    granted.completeExceptionally(failure);
                }
            }, new MqttProperties());
        } catch (MqttException e) {
            granted.completeExceptionally(e);
        }
        return granted;
    }

    /** Removes a filter from a listener's subscriptions; UNSUBSCRIBE goes to the broker when no listener keeps it. */
    public CompletableFuture<Void> unsubscribe(MessageListener listener, TopicFilter filter) {
        registrationOf(listener).subscriptions().removeIf(existing -> existing.filter().equals(filter));
        boolean stillWanted = registrations.stream().flatMap(registration -> registration.subscriptions().stream())
                .anyMatch(existing -> existing.filter().equals(filter));
        MqttAsyncClient current = client;
        if (stillWanted || current == null || !current.isConnected()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            current.unsubscribe(new String[] {filter.toString()}, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    done.complete(null);
                }

                @Override
                public void onFailure(IMqttToken token, Throwable failure) {
                    done.completeExceptionally(failure);
                }
            }, new MqttProperties());
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    private Registration registrationOf(MessageListener listener) {
        return registrations.stream().filter(registration -> registration.listener == listener).findFirst()
                .orElseThrow(() -> new IllegalStateException("the listener is not registered with '" + name + "'"));
    }

    /** Publishes; the future completes when the broker has the message (QoS 1 and 2) or it is written (QoS 0). */
    public CompletableFuture<Void> publish(String topic, byte[] payload, int qos, boolean retain) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        MqttAsyncClient current = client;
        if (current == null || !current.isConnected()) {
            done.completeExceptionally(new IllegalStateException("not connected to the MQTT broker " + brokerUrl
                    + (problem != null ? " (" + problem + ")" : "")));
            return done;
        }
        MqttMessage message = new MqttMessage(payload, qos, retain, new MqttProperties());
        try {
            current.publish(topic, message, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    int[] reasons = token.getReasonCodes();
                    if (reasons != null && reasons.length > 0 && reasons[0] >= 0x80) {
                        done.completeExceptionally(new IllegalStateException(
                                "the broker refused the message: " + ReasonCodes.describe(reasons[0])));
                    } else {
                        done.complete(null);
                    }
                }

                @Override
                public void onFailure(IMqttToken token, Throwable failure) {
                    done.completeExceptionally(failure);
                }
            });
        } catch (MqttException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    public boolean isReady() {
        MqttAsyncClient current = client;
        return current != null && current.isConnected() && subscribed;
    }

    @Override
    protected void doStart() {
        if (brokerUrl == null || brokerUrl.isBlank()) {
            throw new IllegalArgumentException("MQTT connection '" + name + "' has no brokerUrl");
        }
        String uri = BrokerUrl.toPaho(brokerUrl);
        String id = clientId == null || clientId.isBlank() ? "iot-gateway-" + name + "-" + UUID.randomUUID().toString().substring(0, 8) : clientId;
        try {
            client = new MqttAsyncClient(uri, id, new MemoryPersistence());
        } catch (MqttException e) {
            throw new IllegalArgumentException("MQTT connection '" + name + "': " + e.getMessage(), e);
        }
        client.setCallback(new Callback());
        tlsSocketFactory = TlsSettings.socketFactory(trustedCa, clientCertificate, clientKey);
        MeterRegistry registry = GatewayMeters.registry(camelContext);
        reconnects = Counter.builder("mqtt.reconnects").tag("connection", name)
                .description("Connections to the MQTT broker made again after one was lost").register(registry);
        messagesIn = Counter.builder("mqtt.messages.received").tag("connection", name)
                .description("Messages received from the MQTT broker").register(registry);
        Gauge.builder("mqtt.connected", this, connection -> connection.isReady() ? 1 : 0).tag("connection", name)
                .description("1 while connected with every subscription granted").register(registry);
        healthCheck = new ConnectionHealthCheck();
        healthCheck.register(camelContext);
        connector = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "mqtt-" + name + "-connect");
            thread.setDaemon(true);
            return thread;
        });
        ServiceHelper.startService(credentials);
        LOG.info("MQTT connection '{}' to {} as client id {}", name, BrokerUrl.redacted(brokerUrl), id);
        connector.execute(this::connect);
    }

    @Override
    protected void doStop() {
        connector.shutdownNow();
        try {
            if (client.isConnected()) {
                client.disconnect(2000).waitForCompletion(3000);
            }
            client.close(true);
        } catch (MqttException e) {
            LOG.debug("MQTT connection '{}': closing: {}", name, e.getMessage());
        }
        healthCheck.unregister(camelContext);
        ServiceHelper.stopService(credentials);
        subscribed = false;
        problem = "stopped";
    }

    private void connect() {
        MqttConnectionOptions options = new MqttConnectionOptions();
        options.setCleanStart(true);
        options.setAutomaticReconnect(false);
        options.setKeepAliveInterval(keepAliveSeconds);
        options.setConnectionTimeout(connectTimeoutSeconds);
        // the broker's certificate must name the host of the URL (Paho's default, said here on purpose)
        options.setHttpsHostnameVerificationEnabled(true);
        if (tlsSocketFactory != null) {
            options.setSocketFactory(tlsSocketFactory);
        }
        MqttCredentials.Credentials login;
        try {
            login = credentials != null ? credentials.next() : new MqttCredentials.Credentials(username, password);
        } catch (Exception e) {
            retryLater("cannot connect without credentials: " + describe(e));
            return;
        }
        try {
            if (login.username() != null && !login.username().isEmpty()) {
                options.setUserName(login.username());
            }
            if (login.password() != null && !login.password().isEmpty()) {
                options.setPassword(login.password().getBytes(StandardCharsets.UTF_8));
            }
            client.connect(options, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    connector.execute(MqttConnection.this::connected);
                }

                @Override
                public void onFailure(IMqttToken token, Throwable failure) {
                    retryLater("cannot connect to " + BrokerUrl.redacted(brokerUrl) + ": " + describe(failure));
                }
            });
        } catch (Exception e) {
            retryLater("cannot connect to " + BrokerUrl.redacted(brokerUrl) + ": " + describe(e));
        }
    }

    private void connected() {
        LOG.info("MQTT connection '{}': connected to {}", name, BrokerUrl.redacted(brokerUrl));
        if (everConnected) {
            reconnects.increment();
        }
        everConnected = true;
        attempt = 0;
        subscribe(client, registrations);
    }

    private void subscribe(MqttAsyncClient current, List<Registration> toSubscribe) {
        List<MqttSubscription> wanted = new ArrayList<>();
        for (Registration registration : toSubscribe) {
            for (Subscription subscription : registration.subscriptions()) {
                wanted.add(toMqtt(subscription));
            }
        }
        if (wanted.isEmpty()) {
            markSubscribed();
            return;
        }
        MqttSubscription[] subscriptions = wanted.toArray(MqttSubscription[]::new);
        problem = "connected, waiting for the broker to answer SUBSCRIBE";
        // a broker that never answers must not leave a connection that receives nothing
        long round = subscribeRounds.incrementAndGet();
        connector.schedule(() -> {
            if (!subscribed && subscribeRounds.get() == round && current.isConnected()) {
                dropAndRetry("the broker did not answer SUBSCRIBE within " + connectTimeoutSeconds + " s");
            }
        }, connectTimeoutSeconds, TimeUnit.SECONDS);
        try {
            current.subscribe(subscriptions, null, new MqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    List<String> refused = refusals(subscriptions, token.getReasonCodes());
                    if (refused.isEmpty()) {
                        markSubscribed();
                    } else {
                        // a refusal is the broker's policy (ACL, bad filter): reconnecting later retries it
                        dropAndRetry("the broker refused " + String.join("; ", refused));
                    }
                }

                @Override
                public void onFailure(IMqttToken token, Throwable failure) {
                    dropAndRetry("subscribing failed: " + describe(failure));
                }
            }, new MqttProperties());
        } catch (MqttException e) {
            dropAndRetry("subscribing failed: " + describe(e));
        }
    }

    private MqttSubscription toMqtt(Subscription subscription) {
        MqttSubscription mqtt = new MqttSubscription(subscription.filter().toString(), subscription.qos());
        mqtt.setRetainAsPublished(retainAsPublished);
        return mqtt;
    }

    private static List<String> refusals(MqttSubscription[] subscriptions, int[] reasons) {
        List<String> refused = new ArrayList<>();
        for (int i = 0; i < subscriptions.length; i++) {
            int reason = reasons != null && i < reasons.length ? reasons[i] : 0x80;
            if (reason >= 0x80) {
                refused.add("'" + subscriptions[i].getTopic() + "' (" + ReasonCodes.describe(reason) + ")");
            }
        }
        return refused;
    }

    private void markSubscribed() {
        subscribed = true;
        problem = null;
        LOG.info("MQTT connection '{}': subscribed to {}", name, registrations.stream()
                .flatMap(registration -> registration.subscriptions().stream())
                .map(subscription -> subscription.filter() + " (QoS " + subscription.qos() + ")").toList());
    }

    private void dropAndRetry(String reason) {
        subscribed = false;
        try {
            client.disconnect(1000, null, null, 0x80, new MqttProperties());
        } catch (MqttException e) {
            LOG.debug("MQTT connection '{}': disconnect after a failed subscription: {}", name, e.getMessage());
        }
        retryLater(reason);
    }

    private void retryLater(String reason) {
        subscribed = false;
        problem = reason;
        // a failed subscription and the disconnect it causes both end here: one attempt at a time
        if (connector.isShutdown() || !retryPending.compareAndSet(false, true)) {
            return;
        }
        long delay = Math.min(maxReconnectDelayMillis, reconnectDelayMillis << Math.min(attempt, 16));
        attempt++;
        LOG.warn("MQTT connection '{}': {}; retrying in {} ms", name, reason, delay);
        connector.schedule(() -> {
            retryPending.set(false);
            connect();
        }, delay, TimeUnit.MILLISECONDS);
    }

    private static String describe(Throwable failure) {
        Throwable cause = failure;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
            if (cause instanceof SSLException || cause instanceof GeneralSecurityException) {
                // Paho wraps a refused certificate in an "Untranslated MqttException": say what TLS said
                return "TLS handshake failed: " + rootMessage(cause);
            }
        }
        String text = failure.getMessage() != null ? failure.getMessage() : failure.getClass().getSimpleName();
        return cause == failure ? text : text + " (" + cause + ")";
    }

    private static String rootMessage(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }

    private final class Callback implements MqttCallback {
        @Override
        public void disconnected(MqttDisconnectResponse response) {
            String reason = response.getException() != null ? describe(response.getException())
                    : ReasonCodes.describe(response.getReturnCode());
            if (isStarted() && !isStopping()) {
                connector.execute(() -> retryLater("connection lost: " + reason));
            }
        }

        @Override
        public void mqttErrorOccurred(MqttException exception) {
            LOG.warn("MQTT connection '{}': {}", name, exception.getMessage());
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            long receivedAt = System.currentTimeMillis();
            messagesIn.increment();
            // an exception thrown here would make Paho drop the connection: a listener's failure stays its own
            for (Registration registration : registrations) {
                if (registrations.size() == 1 || matchesAny(registration.subscriptions(), topic)) {
                    try {
                        registration.listener().onMessage(topic, message, receivedAt);
                    } catch (RuntimeException e) {
                        LOG.warn("MQTT connection '{}': a message on '{}' failed in its route: {}", name, topic, e.toString());
                    }
                }
            }
        }

        @Override
        public void deliveryComplete(IMqttToken token) {
            // publish futures complete through their own listeners
        }

        @Override
        public void connectComplete(boolean reconnect, String serverUri) {
            // subscriptions are made by connected(), after each successful connect
        }

        @Override
        public void authPacketArrived(int reasonCode, MqttProperties properties) {
            LOG.debug("MQTT connection '{}': AUTH packet {}", name, reasonCode);
        }
    }

    private static boolean matchesAny(List<Subscription> subscriptions, String topic) {
        for (Subscription subscription : subscriptions) {
            if (subscription.filter().matches(topic)) {
                return true;
            }
        }
        return false;
    }

    /** Readiness: DOWN until connected with every subscription granted. */
    private final class ConnectionHealthCheck extends ReadinessCheck {
        ConnectionHealthCheck() {
            super("mqtt", "mqtt-" + name);
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            builder.detail("broker", BrokerUrl.redacted(brokerUrl));
            if (isReady()) {
                builder.up();
            } else {
                builder.message(problem != null ? problem : "connecting").down();
            }
        }
    }

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }

    /**
     * The connection is named after its bean, by the endpoints that use it: in logs, metrics ({@code connection} tag)
     * and its health check ({@code mqtt-<name>}).
     */
    void nameAfter(String beanName) {
        this.name = beanName;
    }

    public String getBrokerUrl() {
        return brokerUrl;
    }

    /** {@code tcp://host[:1883]}, {@code mqtt://}, {@code ssl://host[:8883]}, {@code tls://} or {@code mqtts://}. */
    public void setBrokerUrl(String brokerUrl) {
        this.brokerUrl = brokerUrl;
    }

    public String getClientId() {
        return clientId;
    }

    /** Blank: iot-gateway-{name}-{random}, so that several instances never take over each other's session. */
    public void setClientId(String clientId) {
        this.clientId = clientId;
    }

    public String getUsername() {
        return username;
    }

    public void setUsername(String username) {
        this.username = username;
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    public MqttCredentials getCredentials() {
        return credentials;
    }

    /** Obtains user name and password for every connect attempt; when set, username and password are not used. */
    public void setCredentials(MqttCredentials credentials) {
        this.credentials = credentials;
    }

    public String getTrustedCa() {
        return trustedCa;
    }

    /** CA certificates for ssl:// brokers, as PEM text or a PEM file path; empty: the JVM's trust store. */
    public void setTrustedCa(String trustedCa) {
        this.trustedCa = trustedCa;
    }

    public boolean isRetainAsPublished() {
        return retainAsPublished;
    }

    /**
     * True (default): a live message keeps the retained flag it was published with, so it tells whether the broker
     * keeps it. False: only the retained messages the broker replays on SUBSCRIBE carry the flag.
     */
    public void setRetainAsPublished(boolean retainAsPublished) {
        this.retainAsPublished = retainAsPublished;
    }

    public String getClientCertificate() {
        return clientCertificate;
    }

    /** Certificate (chain) to present to brokers that ask for one, as PEM text or a PEM file path; needs clientKey. */
    public void setClientCertificate(String clientCertificate) {
        this.clientCertificate = clientCertificate;
    }

    public String getClientKey() {
        return clientKey;
    }

    /** Private key of the client certificate: unencrypted PKCS#8 PEM text or file path. */
    public void setClientKey(String clientKey) {
        this.clientKey = clientKey;
    }

    public int getKeepAliveSeconds() {
        return keepAliveSeconds;
    }

    public void setKeepAliveSeconds(int keepAliveSeconds) {
        this.keepAliveSeconds = keepAliveSeconds;
    }

    public int getConnectTimeoutSeconds() {
        return connectTimeoutSeconds;
    }

    public void setConnectTimeoutSeconds(int connectTimeoutSeconds) {
        this.connectTimeoutSeconds = connectTimeoutSeconds;
    }

    public long getReconnectDelayMillis() {
        return reconnectDelayMillis;
    }

    /** First wait after a lost connection or failed attempt; doubles each time up to maxReconnectDelayMillis. */
    public void setReconnectDelayMillis(long reconnectDelayMillis) {
        this.reconnectDelayMillis = reconnectDelayMillis;
    }

    public long getMaxReconnectDelayMillis() {
        return maxReconnectDelayMillis;
    }

    public void setMaxReconnectDelayMillis(long maxReconnectDelayMillis) {
        this.maxReconnectDelayMillis = maxReconnectDelayMillis;
    }

    @Override
    public String toString() {
        return "MqttConnection[" + name + " " + BrokerUrl.redacted(brokerUrl) + "]";
    }
}
