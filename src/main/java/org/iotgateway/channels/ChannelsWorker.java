package org.iotgateway.channels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.support.service.ServiceSupport;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.iotgateway.GatewayMeters;
import org.iotgateway.ReachabilityCheck;
import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.mqtt.MqttConstants;
import org.iotgateway.mqtt.MqttConsumer;
import org.iotgateway.mqtt.Subscription;
import org.iotgateway.mqtt.TopicFilter;
import org.iotgateway.mqttsn.store.ValkeyUri;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code runworker mqtt} of channels-mqtt-proxy: reads the Channels channel (default {@code mqtt}) from Redis and
 * hands each message to the request route; keeps which groups want which topic filters, in Redis too, so that a
 * restarted worker, or another instance, subscribes them again; and sends each MQTT message once to every group whose
 * filters match. A retained message the broker replays when a filter is subscribed goes only to the groups that have
 * just subscribed it, and never again to a group that had it.
 * As the processor of the route that receives MQTT messages it starts and stops with that route.
 */
public class ChannelsWorker extends ServiceSupport implements Processor, CamelContextAware, MqttConnection.MessageListener {

    private static final Logger LOG = LoggerFactory.getLogger(ChannelsWorker.class);
    /** Header with the message type ({@code mqtt.subscribe}, {@code mqtt.unsubscribe}, {@code mqtt.publish}). */
    public static final String TYPE = "ChannelsMessageType";
    // how long after a group subscribes the broker's replay of retained messages counts as its last known state
    private static final long RETAINED_WINDOW_MILLIS = 10_000;
    private static final int MAX_SENDS_IN_FLIGHT = 1000;

    private CamelContext camelContext;
    private String redisUrl;
    private String layerBackend = "RedisChannelLayer";
    private String prefix = "asgi";
    private String channel = "mqtt";
    private int expirySeconds = 60;
    private int groupExpirySeconds = 86400;
    private int capacity = 100;
    private int qos = 1;
    private boolean deliverRetained = true;
    private MqttConnection connection;
    private String requestUri;
    private String messageUri;

    /** filter → group → when it subscribed (for the retained replay) */
    private final Map<TopicFilter, Map<String, Long>> groupsByFilter = new ConcurrentHashMap<>();
    /** group + topic pairs that already had a retained replay */
    private final Set<String> retainedDelivered = ConcurrentHashMap.newKeySet();
    private final Semaphore sendsInFlight = new Semaphore(MAX_SENDS_IN_FLIGHT);
    private ChannelLayer layer;
    private RedisClient storeClient;
    private StatefulRedisConnection<String, String> store;
    private ProducerTemplate producer;
    private Thread receiver;
    private volatile boolean running;
    private final ReachabilityCheck redis = new ReachabilityCheck("channels", "channels-redis", "Channels worker's Redis",
            "not reading its channel yet") {
        @Override
        protected void details(HealthCheckResultBuilder builder) {
            builder.detail("channel", prefix + channel);
        }
    };
    private Counter badMessages;
    private Counter eventsSent;

    @Override
    protected void doStart() {
        layer = ChannelLayer.of(layerBackend, redisUrl, prefix, expirySeconds, groupExpirySeconds, capacity);
        storeClient = RedisClient.create(ValkeyUri.parse(redisUrl));
        store = storeClient.connect();
        List<Subscription> restored = new ArrayList<>();
        for (String entry : store.sync().smembers(subscriptionsKey())) {
            int space = entry.indexOf(' ');
            TopicFilter filter = TopicFilter.parse(entry.substring(space + 1));
            if (groupsByFilter.computeIfAbsent(filter, ignored -> new ConcurrentHashMap<>())
                    .put(entry.substring(0, space), 0L) == null && groupsByFilter.get(filter).size() == 1) {
                restored.add(new Subscription(filter, qos));
            }
        }
        LOG.info("Channels worker on channel '{}' ({}{}): {} topic filters restored from Redis", channel, prefix, channel, restored.size());
        MeterRegistry registry = GatewayMeters.registry(camelContext);
        badMessages = Counter.builder("channels.messages.rejected").description("Channels messages that were not understood")
                .register(registry);
        eventsSent = Counter.builder("channels.events.sent").description("mqtt.message events sent to groups").register(registry);
        producer = camelContext.createProducerTemplate();
        connection.register(restored, this);
        connection.acquire();
        redis.register(camelContext);
        running = true;
        receiver = new Thread(this::receiveLoop, "channels-" + channel + "-receiver");
        receiver.start();
    }

    @Override
    protected void doStop() throws Exception {
        running = false;
        // a receive waits at most a second: the worker stops between two messages, never in the middle of one
        receiver.join(TimeUnit.SECONDS.toMillis(5));
        redis.unregister(camelContext);
        connection.unregister(this);
        connection.release();
        // group sends already under way finish before their Redis connection closes
        if (!sendsInFlight.tryAcquire(MAX_SENDS_IN_FLIGHT, 5, TimeUnit.SECONDS)) {
            LOG.warn("Channels worker: stopped with group sends still under way");
        }
        producer.stop();
        layer.close();
        store.close();
        storeClient.shutdown();
    }

    private void receiveLoop() {
        while (running) {
            ChannelLayer.Received received;
            try {
                received = layer.receive(channel, 1);
            } catch (MsgPack.MalformedMessageException e) {
                reject("a message on channel '" + channel + "' is not valid msgpack: " + e.getMessage());
                continue;
            } catch (RuntimeException e) {
                redis.report("cannot read channel '" + channel + "' from Redis: " + e.getMessage() + "; retrying every second");
                pause();
                continue;
            }
            redis.report(null);
            if (received == null) {
                continue;
            }
            try {
                String type = ChannelsMessages.type(received.message());
                producer.send(requestUri, exchange -> {
                    exchange.getMessage().setBody(received.message());
                    exchange.getMessage().setHeader(TYPE, type);
                });
            } catch (ChannelsMessages.BadMessageException e) {
                reject(e.getMessage() + ": " + received.message());
            } finally {
                layer.done(channel, received.member());
            }
        }
    }

    private void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private void reject(String reason) {
        badMessages.increment();
        LOG.warn("Channels worker: skipped a message: {}", reason);
    }

    /** {@code mqtt_subscribe {topic, group}}: the group gets the filter's messages from now on. */
    public void subscribe(Map<String, Object> message) throws Exception {
        TopicFilter filter = ChannelsMessages.filter(message);
        String group = ChannelsMessages.group(message);
        Map<String, Long> groups = groupsByFilter.computeIfAbsent(filter, ignored -> new ConcurrentHashMap<>());
        if (groups.containsKey(group)) {
            return;
        }
        groups.put(group, System.currentTimeMillis());
        try {
            // subscribing again makes the broker replay the filter's retained messages: the new group's last known state
            connection.subscribe(this, new Subscription(filter, qos)).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            groups.remove(group);
            groupsByFilter.remove(filter, Map.of());
            throw new ChannelsMessages.BadMessageException("the broker did not grant '" + filter + "': "
                    + (e.getCause() != null ? e.getCause().getMessage() : "no answer within 30 s"));
        }
        store.sync().sadd(subscriptionsKey(), group + " " + filter);
        LOG.info("Channels worker: group '{}' subscribed to '{}'", group, filter);
    }

    /** {@code mqtt_unsubscribe {topic, group}}: MQTT UNSUBSCRIBE when the last group leaves the filter. */
    public void unsubscribe(Map<String, Object> message) throws Exception {
        TopicFilter filter = ChannelsMessages.filter(message);
        String group = ChannelsMessages.group(message);
        store.sync().srem(subscriptionsKey(), group + " " + filter);
        Map<String, Long> groups = groupsByFilter.get(filter);
        if (groups == null || groups.remove(group) == null) {
            return;
        }
        if (groups.isEmpty()) {
            groupsByFilter.remove(filter);
            connection.unsubscribe(this, filter).get(30, TimeUnit.SECONDS);
        }
        LOG.info("Channels worker: group '{}' unsubscribed from '{}'", group, filter);
    }

    /** {@code mqtt_publish {publish:{topic, payload, qos, retain}}}: the body and headers for the MQTT producer. */
    public void publication(Exchange exchange) throws Exception {
        @SuppressWarnings("unchecked")
        ChannelsMessages.Publication publication = ChannelsMessages.publication(exchange.getMessage().getBody(Map.class));
        exchange.getMessage().setBody(publication.payload());
        exchange.getMessage().setHeader(MqttConstants.TOPIC, publication.topic());
        exchange.getMessage().setHeader(MqttConstants.QOS, publication.qos());
        exchange.getMessage().setHeader(MqttConstants.RETAINED, publication.retain());
    }

    /** The request route's answer to a message it could not act on: logged with the reason, counted, skipped. */
    public void rejected(String type, Exception failure) {
        reject(type + ": " + failure.getMessage());
    }

    /** A message type this worker does not know. */
    public void unknown(Exchange exchange) throws ChannelsMessages.BadMessageException {
        throw new ChannelsMessages.BadMessageException("unknown message type '" + exchange.getMessage().getHeader(TYPE) + "'");
    }

    /** The groups have filters of their own: each takes its own copy of a message ({@link MqttConnection#isCopyFor}). */
    @Override
    public boolean takesEveryCopy() {
        return true;
    }

    @Override
    public void onMessage(String topic, MqttMessage message, long receivedAtMillis) {
        producer.send(messageUri, exchange -> MqttConsumer.copy(topic, message, receivedAtMillis, exchange.getMessage()));
    }

    /** Sends the MQTT message in the exchange to each group that wants it, once per group. */
    @Override
    public void process(Exchange exchange) {
        String topic = exchange.getMessage().getHeader(MqttConstants.TOPIC, String.class);
        boolean retained = exchange.getMessage().getHeader(MqttConstants.RETAINED, false, Boolean.class);
        @SuppressWarnings("unchecked")
        List<Integer> copyOf = exchange.getMessage().getHeader(MqttConstants.SUBSCRIPTION_IDS, List.of(), List.class);
        // each group's filters that match: the group takes this copy if it is the one meant for it
        Map<String, List<TopicFilter>> matching = new LinkedHashMap<>();
        Map<String, Long> subscribedSince = new LinkedHashMap<>();
        groupsByFilter.forEach((filter, subscribers) -> {
            if (filter.matches(topic)) {
                subscribers.forEach((group, since) -> {
                    matching.computeIfAbsent(group, ignored -> new ArrayList<>()).add(filter);
                    subscribedSince.merge(group, since, Math::max);
                });
            }
        });
        Set<String> groups = new LinkedHashSet<>();
        long now = System.currentTimeMillis();
        matching.forEach((group, filters) -> {
            // a retained replay is only for groups that just subscribed and have not had this topic's state
            if (connection.isCopyFor(filters, topic, copyOf) && (!retained || deliverRetained
                    && now - subscribedSince.get(group) < RETAINED_WINDOW_MILLIS && retainedDelivered.add(group + " " + topic))) {
                groups.add(group);
            }
        });
        if (groups.isEmpty()) {
            return;
        }
        Map<String, Object> event = ChannelsMessages.event(topic, exchange.getMessage().getBody(byte[].class),
                exchange.getMessage().getHeader(MqttConstants.QOS, 0, Integer.class), retained);
        for (String group : groups) {
            // sends overlap on the Redis connection; at most MAX_SENDS_IN_FLIGHT, so a slow Redis slows the MQTT reader
            sendsInFlight.acquireUninterruptibly();
            layer.groupSend(group, event).whenComplete((full, failure) -> {
                sendsInFlight.release();
                if (failure != null) {
                    LOG.warn("Channels worker: cannot send the message on '{}' to group '{}': {}", topic, group, failure.toString());
                    return;
                }
                if (full > 0) {
                    LOG.info("Channels worker: {} channel(s) of group '{}' at capacity, message on '{}' not delivered to them", full, group, topic);
                }
                eventsSent.increment();
            });
        }
    }

    private String subscriptionsKey() {
        return prefix + channel + "$subscriptions";
    }

    /** The groups subscribed to each filter, for health and tests. */
    public Map<String, List<String>> subscriptions() {
        Map<String, List<String>> view = new LinkedHashMap<>();
        groupsByFilter.forEach((filter, groups) -> view.put(filter.toString(), List.copyOf(groups.keySet())));
        return view;
    }

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }

    public void setRedisUrl(String redisUrl) {
        this.redisUrl = redisUrl;
    }

    /** RedisChannelLayer (default) or RedisPubSubChannelLayer: the BACKEND of the app's CHANNEL_LAYERS. */
    public void setLayer(String layerBackend) {
        this.layerBackend = layerBackend;
    }

    public void setPrefix(String prefix) {
        this.prefix = prefix;
    }

    /** The Channels channel the Django app sends to (MQTT_CHANNEL_NAME). */
    public void setChannel(String channel) {
        this.channel = channel;
    }

    public void setExpirySeconds(int expirySeconds) {
        this.expirySeconds = expirySeconds;
    }

    public void setGroupExpirySeconds(int groupExpirySeconds) {
        this.groupExpirySeconds = groupExpirySeconds;
    }

    public void setCapacity(int capacity) {
        this.capacity = capacity;
    }

    /** QoS the topic filters are subscribed with. */
    public void setQos(int qos) {
        this.qos = qos;
    }

    public void setDeliverRetained(boolean deliverRetained) {
        this.deliverRetained = deliverRetained;
    }

    public void setConnection(MqttConnection connection) {
        this.connection = connection;
    }

    /** Route each Channels message is handed to, with the {@value #TYPE} header. */
    public void setRequestUri(String requestUri) {
        this.requestUri = requestUri;
    }

    /** Route each MQTT message is handed to; it ends with this worker as its processor. */
    public void setMessageUri(String messageUri) {
        this.messageUri = messageUri;
    }

}
