package org.iotgateway.channels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.Counter;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.support.service.ServiceSupport;
import org.iotgateway.GatewayMeters;
import org.iotgateway.mqtt.DynamicSubscriptions;
import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.mqtt.MqttConstants;
import org.iotgateway.mqtt.Subscription;
import org.iotgateway.mqtt.TopicFilter;
import org.iotgateway.ValkeyUri;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code runworker mqtt} of channels-mqtt-proxy, what YAML cannot say of it: acts on the Channels application's
 * messages (which the route takes {@code from: channels:}), keeps which groups want which topic filters, in Redis too,
 * so that a restarted worker, or another instance, subscribes them again, and says which groups an MQTT message goes
 * to, once per group ({@link #toGroups}, sent by the route {@code to: channels:}); the route's
 * {@code from: mqtt:...?subscriptions=#channelsWorker} subscribes what the groups want. A retained message the broker
 * replays when a filter is subscribed goes only to the groups that have just subscribed it, and never again to a group
 * that had it.
 */
public class ChannelsWorker extends ServiceSupport implements CamelContextAware, DynamicSubscriptions {

    private static final Logger LOG = LoggerFactory.getLogger(ChannelsWorker.class);
    // how long after a group subscribes the broker's replay of retained messages counts as its last known state
    private static final long RETAINED_WINDOW_MILLIS = 10_000;

    private CamelContext camelContext;
    private String redisUrl;
    private String prefix = "asgi";
    private String channel = "mqtt";
    private int qos = 1;
    private boolean deliverRetained = true;
    private MqttConnection connection;

    /** filter → group → when it subscribed (for the retained replay) */
    private final Map<TopicFilter, Map<String, Long>> groupsByFilter = new ConcurrentHashMap<>();
    /** group + topic pairs that already had a retained replay */
    private final Set<String> retainedDelivered = ConcurrentHashMap.newKeySet();
    private RedisClient storeClient;
    private StatefulRedisConnection<String, String> store;
    /** The from: mqtt: endpoint's, while it runs. */
    private volatile Subscriber subscriber;
    private Counter badMessages;

    @Override
    protected void doStart() {
        storeClient = ValkeyUri.client(redisUrl);
        store = storeClient.connect();
        badMessages = ChannelsMessages.rejectedCounter(GatewayMeters.registry(camelContext));
    }

    /** The groups' subscriptions as Redis keeps them: another instance may have led, and changed them, until now. */
    private void restore() {
        groupsByFilter.clear();
        for (String entry : store.sync().smembers(subscriptionsKey())) {
            int space = entry.indexOf(' ');
            groupsByFilter.computeIfAbsent(TopicFilter.parse(entry.substring(space + 1)), ignored -> new ConcurrentHashMap<>())
                    .put(entry.substring(0, space), 0L);
        }
        LOG.info("Channels worker on channel '{}' ({}{}): {} topic filters restored from Redis", channel, prefix, channel,
                groupsByFilter.size());
    }

    @Override
    protected void doStop() {
        store.close();
        storeClient.shutdown();
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
            Subscriber current = subscriber;
            if (current != null) {
                current.subscribe(new Subscription(filter, qos)).get(30, TimeUnit.SECONDS);
            }
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
            Subscriber current = subscriber;
            if (current != null) {
                current.unsubscribe(filter).get(30, TimeUnit.SECONDS);
            }
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
        throw new ChannelsMessages.BadMessageException("unknown message type '"
                + exchange.getMessage().getHeader(ChannelsConstants.MESSAGE_TYPE) + "'");
    }

    /**
     * The groups' filters now, read from Redis (this instance starts, or takes over from another); a filter a group
     * subscribes later is subscribed through {@code subscriber}.
     */
    @Override
    public synchronized List<Subscription> attach(Subscriber subscriber) {
        this.subscriber = subscriber;
        restore();
        return groupsByFilter.keySet().stream().map(filter -> new Subscription(filter, qos)).toList();
    }

    @Override
    public synchronized void detach(Subscriber subscriber) {
        if (this.subscriber == subscriber) {
            this.subscriber = null;
        }
    }

    /**
     * The MQTT message in the exchange becomes the {@code mqtt.message} event (the body), for the groups that want it
     * (the header {@code ChannelsGroup}, a list: each group once; empty when none does).
     */
    public void toGroups(Exchange exchange) {
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
        exchange.getMessage().setBody(groups.isEmpty() ? Map.of() : ChannelsMessages.event(topic,
                exchange.getMessage().getBody(byte[].class), exchange.getMessage().getHeader(MqttConstants.QOS, 0, Integer.class),
                retained));
        exchange.getMessage().setHeader(ChannelsConstants.GROUP, List.copyOf(groups));
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

    public void setPrefix(String prefix) {
        this.prefix = prefix;
    }

    /** The Channels channel the Django app sends to (MQTT_CHANNEL_NAME). */
    public void setChannel(String channel) {
        this.channel = channel;
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

}
