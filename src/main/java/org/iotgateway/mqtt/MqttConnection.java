package org.iotgateway.mqtt;

import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
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

import javax.net.SocketFactory;
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
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.iotgateway.GatewayMeters;
import org.iotgateway.ReadinessCheck;
import org.iotgateway.TlsSettings;
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

    /**
     * Receives the messages of one consumer's subscriptions, on the connection's single callback thread: each message
     * once, whatever the overlap of its filters ({@link #isCopyFor}).
     */
    public interface MessageListener {
        void onMessage(String topic, MqttMessage message, long receivedAtMillis);

        /**
         * True for a listener that hands messages on to several receivers, each with filters of its own: it gets
         * every copy the broker sends for any of its filters and calls {@link #isCopyFor} per receiver.
         */
        default boolean takesEveryCopy() {
            return false;
        }
    }

    /**
     * Told when the connection subscribes its filters after a connect, and when the broker has granted them all: the
     * broker replays the filters' retained messages in between and just after.
     */
    public interface SubscriptionWatcher {
        void subscribing();

        void subscribed();
    }

    /**
     * Told whenever the connection becomes ready, stops being ready, or gives another reason for not being ready; on the
     * thread that saw it (Paho's or the connection's own), so a watcher hands the news on rather than work with it.
     */
    public interface StateWatcher {
        void changed(State state);
    }

    /** Ready (connected, every subscription granted) or not and why; since when it has been so, in epoch ms. */
    public record State(boolean ready, String problem, long sinceMillis) {
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
    private SocketFactory sockets;
    private boolean retainAsPublished = true;
    private String protocolVersion = "5";
    private int keepAliveSeconds = 30;
    private int sessionExpirySeconds;
    private int connectTimeoutSeconds = 10;
    private long reconnectDelayMillis = 1000;
    private long maxReconnectDelayMillis = 30000;

    private final List<Registration> registrations = new CopyOnWriteArrayList<>();
    private final List<SubscriptionWatcher> watchers = new CopyOnWriteArrayList<>();
    private final List<StateWatcher> stateWatchers = new CopyOnWriteArrayList<>();
    private volatile State state = new State(false, "not connected yet", System.currentTimeMillis());
    private final AtomicInteger users = new AtomicInteger();
    private ScheduledExecutorService connector;
    private volatile BrokerClient client;
    private String pahoUri;
    private String resolvedClientId;
    private volatile boolean subscribed;
    private volatile long attempt;
    private final AtomicBoolean retryPending = new AtomicBoolean();
    private final AtomicLong subscribeRounds = new AtomicLong();
    private boolean everConnected;
    private Counter reconnects;
    private Counter messagesIn;
    private ReadinessCheck healthCheck;
    private Gauge connectedGauge;

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
        BrokerClient current = client;
        if (current != null && current.isConnected()) {
            connector.execute(() -> subscribe(current, List.of(registration)));
        }
    }

    public void watchSubscriptions(SubscriptionWatcher watcher) {
        watchers.add(watcher);
    }

    public void unwatchSubscriptions(SubscriptionWatcher watcher) {
        watchers.remove(watcher);
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
        BrokerClient current = client;
        if (current == null || !current.isConnected()) {
            return CompletableFuture.completedFuture(null);
        }
        return current.subscribe(List.of(subscription), retainAsPublished).thenAccept(reasons -> {
            List<String> refused = refusals(List.of(subscription), reasons);
            if (!refused.isEmpty()) {
                registration.subscriptions().remove(subscription);
                throw new IllegalStateException("the broker refused " + refused.get(0));
            }
        });
    }

    /** Removes a filter from a listener's subscriptions; UNSUBSCRIBE goes to the broker when no listener keeps it. */
    public CompletableFuture<Void> unsubscribe(MessageListener listener, TopicFilter filter) {
        registrationOf(listener).subscriptions().removeIf(existing -> existing.filter().equals(filter));
        boolean stillWanted = registrations.stream().flatMap(registration -> registration.subscriptions().stream())
                .anyMatch(existing -> existing.filter().equals(filter));
        BrokerClient current = client;
        if (stillWanted || current == null || !current.isConnected()) {
            return CompletableFuture.completedFuture(null);
        }
        return current.unsubscribe(filter);
    }

    private Registration registrationOf(MessageListener listener) {
        return registrations.stream().filter(registration -> registration.listener == listener).findFirst()
                .orElseThrow(() -> new IllegalStateException("the listener is not registered with '" + name + "'"));
    }

    /** Publishes; the future completes when the broker has the message (QoS 1 and 2) or it is written (QoS 0). */
    public CompletableFuture<Void> publish(String topic, byte[] payload, int qos, boolean retain) {
        try {
            TopicFilter.checkTopicName(topic);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
        BrokerClient current = client;
        if (current == null || !current.isConnected()) {
            String problem = state.problem();
            return CompletableFuture.failedFuture(new IllegalStateException("not connected to the MQTT broker " + brokerUrl
                    + (problem != null ? " (" + problem + ")" : "")));
        }
        return current.publish(topic, payload, qos, retain).thenAccept(reason -> {
            if (reason >= 0x80) {
                throw new IllegalStateException("the broker refused the message: " + ReasonCodes.describe(reason));
            }
        });
    }

    public void watchState(StateWatcher watcher) {
        stateWatchers.add(watcher);
    }

    public void unwatchState(StateWatcher watcher) {
        stateWatchers.remove(watcher);
    }

    /** Whether the connection is ready, and if not why, since when. */
    public State state() {
        return state;
    }

    private synchronized void setProblem(String problem) {
        State before = state;
        if (Objects.equals(before.problem(), problem)) {
            return;
        }
        boolean ready = problem == null;
        State now = new State(ready, problem, ready == before.ready() ? before.sinceMillis() : System.currentTimeMillis());
        state = now;
        stateWatchers.forEach(watcher -> watcher.changed(now));
    }

    public boolean isReady() {
        BrokerClient current = client;
        return current != null && current.isConnected() && subscribed;
    }

    @Override
    protected void doStart() {
        if (brokerUrl == null || brokerUrl.isBlank()) {
            throw new IllegalArgumentException("MQTT connection '" + name + "' has no brokerUrl");
        }
        if (name == null) {
            // started by a bean that holds it (the Channels worker) before any mqtt: endpoint named it
            name = camelContext.getRegistry().findByTypeWithName(MqttConnection.class).entrySet().stream()
                    .filter(bean -> bean.getValue() == this).map(Map.Entry::getKey).findFirst().orElse("unnamed");
        }
        pahoUri = BrokerUrl.toPaho(brokerUrl);
        resolvedClientId = clientId == null || clientId.isBlank() ? "iot-gateway-" + name + "-" + UUID.randomUUID().toString().substring(0, 8) : clientId;
        SSLSocketFactory tls = TlsSettings.socketFactory(trustedCa, clientCertificate, clientKey);
        sockets = pahoUri.startsWith("ssl://") ? NoDelaySockets.tls(tls != null ? tls : (SSLSocketFactory) SSLSocketFactory.getDefault())
                : NoDelaySockets.plain();
        client = newClient(protocolVersion.equals("3.1.1"));
        MeterRegistry registry = GatewayMeters.registry(camelContext);
        reconnects = Counter.builder("mqtt.reconnects").tag("connection", name)
                .description("Connections to the MQTT broker made again after one was lost").register(registry);
        messagesIn = Counter.builder("mqtt.messages.received").tag("connection", name)
                .description("Messages received from the MQTT broker").register(registry);
        connectedGauge = Gauge.builder("mqtt.connected", this, connection -> connection.isReady() ? 1 : 0).tag("connection", name)
                .description("1 while connected with every subscription granted").register(registry);
        healthCheck = new ConnectionHealthCheck();
        healthCheck.register(camelContext);
        connector = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "mqtt-" + name + "-connect");
            thread.setDaemon(true);
            return thread;
        });
        ServiceHelper.startService(credentials);
        LOG.info("MQTT connection '{}' to {} as client id {} ({})", name, BrokerUrl.redacted(brokerUrl), resolvedClientId,
                protocolVersion.equals("3.1.1") ? "MQTT 3.1.1" : "MQTT 5, or 3.1.1 when the broker refuses it");
        connector.execute(this::connect);
    }

    @Override
    protected void doStop() {
        connector.shutdownNow();
        client.disconnect(false);
        client.close();
        healthCheck.unregister(camelContext);
        // the gauge reads this object: a connection that replaces it (route file edited) registers its own
        GatewayMeters.registry(camelContext).remove(connectedGauge);
        ServiceHelper.stopService(credentials);
        subscribed = false;
        setProblem("stopped");
    }

    private BrokerClient newClient(boolean mqtt311) {
        BrokerClient.Events events = new Events();
        try {
            return mqtt311 ? new Mqtt311Client(pahoUri, resolvedClientId, keepAliveSeconds, connectTimeoutSeconds, sockets,
                    sessionExpirySeconds, events)
                    : new Mqtt5Client(pahoUri, resolvedClientId, keepAliveSeconds, connectTimeoutSeconds, sockets,
                    sessionExpirySeconds, events);
        } catch (Exception e) {
            throw new IllegalArgumentException("MQTT connection '" + name + "': " + e.getMessage(), e);
        }
    }

    private void connect() {
        MqttCredentials.Credentials login;
        try {
            login = credentials != null ? credentials.next() : new MqttCredentials.Credentials(username, password);
        } catch (Exception e) {
            retryLater("cannot connect without credentials: " + describe(e));
            return;
        }
        BrokerClient attempted = client;
        attempted.connect(login).whenComplete((ignored, failure) -> {
            if (failure == null) {
                connector.execute(MqttConnection.this::connected);
            } else if (attempted instanceof Mqtt5Client && refusesMqtt5(failure)) {
                connector.execute(() -> fallBackToMqtt311(describe(failure)));
            } else {
                if (attempted instanceof Mqtt311Client && protocolVersion.equals("5")) {
                    // the refusal may have been a broker restarting, not one without MQTT 5: the next attempt tries 5 again
                    connector.execute(() -> {
                        client.close();
                        client = newClient(false);
                    });
                }
                retryLater("cannot connect to " + BrokerUrl.redacted(brokerUrl) + " (" + attempted.protocol() + "): " + describe(failure));
            }
        });
    }

    /**
     * A broker without MQTT 5 answers its CONNECT with "unacceptable protocol version" (0x01 in 3.1.1, 0x84 in 5) or
     * drops the connection before any CONNACK.
     */
    private static boolean refusesMqtt5(Throwable failure) {
        if (failure instanceof MqttException mqtt) {
            int reason = mqtt.getReasonCode();
            return reason == 0x01 || reason == 0x84
                    || reason == org.eclipse.paho.mqttv5.client.MqttClientException.REASON_CODE_CONNECTION_LOST;
        }
        return false;
    }

    private void fallBackToMqtt311(String refusal) {
        LOG.warn("MQTT connection '{}': {} refused MQTT 5 ({}): connecting with MQTT 3.1.1", name,
                BrokerUrl.redacted(brokerUrl), refusal);
        client.close();
        client = newClient(true);
        connect();
    }

    private void connected() {
        LOG.info("MQTT connection '{}': connected to {} with {}", name, BrokerUrl.redacted(brokerUrl), client.protocol());
        if (everConnected) {
            reconnects.increment();
        }
        everConnected = true;
        attempt = 0;
        watchers.forEach(SubscriptionWatcher::subscribing);
        subscribe(client, registrations);
    }

    private void subscribe(BrokerClient current, List<Registration> toSubscribe) {
        List<Subscription> wanted = new ArrayList<>();
        for (Registration registration : toSubscribe) {
            wanted.addAll(registration.subscriptions());
        }
        if (wanted.isEmpty()) {
            markSubscribed();
            return;
        }
        setProblem("connected, waiting for the broker to answer SUBSCRIBE");
        // a broker that never answers must not leave a connection that receives nothing
        long round = subscribeRounds.incrementAndGet();
        connector.schedule(() -> {
            if (!subscribed && subscribeRounds.get() == round && current.isConnected()) {
                dropAndRetry("the broker did not answer SUBSCRIBE within " + connectTimeoutSeconds + " s");
            }
        }, connectTimeoutSeconds, TimeUnit.SECONDS);
        current.subscribe(wanted, retainAsPublished).whenComplete((reasons, failure) -> {
            if (failure != null) {
                dropAndRetry("subscribing failed: " + describe(failure));
                return;
            }
            List<String> refused = refusals(wanted, reasons);
            if (refused.isEmpty()) {
                markSubscribed();
            } else {
                // a refusal is the broker's policy (ACL, bad filter): reconnecting later retries it
                dropAndRetry("the broker refused " + String.join("; ", refused));
            }
        });
    }

    private static List<String> refusals(List<Subscription> subscriptions, int[] reasons) {
        List<String> refused = new ArrayList<>();
        for (int i = 0; i < subscriptions.size(); i++) {
            int reason = reasons != null && i < reasons.length ? reasons[i] : 0x80;
            if (reason >= 0x80) {
                refused.add("'" + subscriptions.get(i).filter() + "' (" + ReasonCodes.describe(reason) + ")");
            }
        }
        return refused;
    }

    private void markSubscribed() {
        boolean renewed = !subscribed;
        subscribed = true;
        setProblem(null);
        if (renewed) {
            watchers.forEach(SubscriptionWatcher::subscribed);
        }
        LOG.info("MQTT connection '{}': subscribed to {}", name, registrations.stream()
                .flatMap(registration -> registration.subscriptions().stream())
                .map(subscription -> subscription.filter() + " (QoS " + subscription.qos() + ")").toList());
    }

    private void dropAndRetry(String reason) {
        subscribed = false;
        client.disconnect(true);
        retryLater(reason);
    }

    private void retryLater(String reason) {
        subscribed = false;
        setProblem(reason);
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

    static String describe(Throwable failure) {
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

    private final class Events implements BrokerClient.Events {
        @Override
        public void lost(String reason) {
            if (isStarted() && !isStopping()) {
                connector.execute(() -> retryLater("connection lost: " + reason));
            }
        }

        @Override
        public void message(String topic, MqttMessage message) {
            long receivedAt = System.currentTimeMillis();
            messagesIn.increment();
            // an exception thrown here would make Paho drop the connection: a listener's failure stays its own
            List<Integer> copyOf = subscriptionIds(message);
            for (Registration registration : registrations) {
                List<TopicFilter> filters = filters(registration.subscriptions());
                if (registration.listener().takesEveryCopy() ? namesAny(filters, topic, copyOf) : isCopyFor(filters, topic, copyOf)) {
                    try {
                        registration.listener().onMessage(topic, message, receivedAt);
                    } catch (RuntimeException e) {
                        LOG.warn("MQTT connection '{}': a message on '{}' failed in its route: {}", name, topic, e.toString());
                    }
                }
            }
        }
    }

    private static List<TopicFilter> filters(List<Subscription> subscriptions) {
        List<TopicFilter> filters = new ArrayList<>(subscriptions.size());
        for (Subscription subscription : subscriptions) {
            filters.add(subscription.filter());
        }
        return filters;
    }

    /** The identifiers of the subscriptions this copy of a message was sent for; empty without (MQTT 3.1.1). */
    public static List<Integer> subscriptionIds(MqttMessage message) {
        MqttProperties properties = message.getProperties();
        return properties == null ? List.of() : properties.getSubscriptionIdentifiers();
    }

    /**
     * Whether a receiver with these filters takes this copy of a message. With MQTT 5 a broker may send a message once
     * for each matching subscription (Mosquitto does), each copy naming its subscription's identifier: a receiver takes
     * only the copy of its matching filter with the lowest identifier, so it gets the message once however its filters
     * overlap. A copy without identifiers (MQTT 3.1.1, one copy per message) goes to every receiver with a filter
     * that matches.
     */
    public boolean isCopyFor(Collection<TopicFilter> filters, String topic, List<Integer> copyOf) {
        if (copyOf.isEmpty()) {
            return namesAny(filters, topic, copyOf);
        }
        BrokerClient current = client;
        int lowest = Integer.MAX_VALUE;
        for (TopicFilter filter : filters) {
            int id = current == null ? 0 : current.subscriptionId(filter);
            if (id > 0 && id < lowest && filter.matches(topic)) {
                lowest = id;
            }
        }
        return copyOf.contains(lowest);
    }

    /** Whether the copy was sent for one of the filters (without identifiers: whether one matches the topic). */
    private boolean namesAny(Collection<TopicFilter> filters, String topic, List<Integer> copyOf) {
        BrokerClient current = client;
        for (TopicFilter filter : filters) {
            if (copyOf.isEmpty() ? filter.matches(topic) : current != null && copyOf.contains(current.subscriptionId(filter))) {
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
                builder.message(state.problem() != null ? state.problem() : "connecting").down();
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

    public String getProtocolVersion() {
        return protocolVersion;
    }

    /** 5 (default): MQTT 5, or 3.1.1 when the broker refuses 5; 3.1.1 (or 311): MQTT 3.1.1 only. */
    public void setProtocolVersion(String protocolVersion) {
        String version = protocolVersion == null ? "" : protocolVersion.strip();
        this.protocolVersion = switch (version) {
            case "", "5" -> "5";
            case "3.1.1", "311", "4" -> "3.1.1";
            default -> throw new IllegalArgumentException("MQTT protocol version must be 5 or 3.1.1, not '" + protocolVersion + "'");
        };
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

    public int getSessionExpirySeconds() {
        return sessionExpirySeconds;
    }

    /**
     * 0 (default): a clean session on every connect. More: the broker keeps the session (and the QoS 1 messages for
     * its subscriptions) that long after a disconnect, as TS-0010 asks of oneM2M nodes ("clean session false").
     */
    public void setSessionExpirySeconds(int sessionExpirySeconds) {
        this.sessionExpirySeconds = sessionExpirySeconds;
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
