package org.iotgateway.mqttsn;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.iotgateway.mqttsn.protocol.Encoder;
import org.iotgateway.mqttsn.protocol.Flags;
import org.iotgateway.mqttsn.protocol.MessageType;
import org.iotgateway.mqttsn.protocol.ReturnCode;
import org.iotgateway.mqttsn.store.SessionStore;
import org.iotgateway.mqttsn.store.Subscriptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Messages for devices: matched against the subscriptions, then for each subscriber sent at once (REGISTER first when
 * the topic id is new to it), kept while it sleeps, and for QoS 1 retried until it answers PUBACK (QoS 2: PUBREC, then
 * PUBREL until PUBCOMP), at most {@code maxAttempts} times. What is in flight and what is kept lives in the store (see {@link Subscriptions}), so the
 * PUBACK may reach any instance and any instance retries. The filters themselves are also held here, in a
 * {@link FilterTree} that the store's invalidations keep in step with the other instances.
 */
final class Downlink {

    private static final Logger LOG = LoggerFactory.getLogger(Downlink.class);

    private final SessionStore store;
    private final Subscriptions subscriptions;
    private final ReplyWriter replies;
    private final boolean portInKey;
    private final Map<String, Integer> predefinedIds = new HashMap<>();
    private final GatewayMetrics metrics;
    private final ThrottledLog log;
    private final FilterTree filters = new FilterTree();
    private final long retryMillis;
    private final int maxAttempts;
    private final int maxKept;
    private final int maxTopics;

    /** How a message fared: sent to this many clients, kept for this many sleeping ones, not delivered to the rest. */
    record Outcome(int sent, int kept, int notDelivered) {
    }

    Downlink(SessionStore store, ReplyWriter replies, boolean portInKey, Map<Integer, String> predefinedTopics,
             GatewayMetrics metrics, ThrottledLog log, long retryMillis, int maxAttempts, int maxKept, int maxTopics) {
        this.store = store;
        this.subscriptions = store.subscriptions();
        this.replies = replies;
        this.portInKey = portInKey;
        predefinedTopics.forEach((id, name) -> predefinedIds.put(name, id));
        this.metrics = metrics;
        this.log = log;
        this.retryMillis = retryMillis;
        this.maxAttempts = maxAttempts;
        this.maxKept = maxKept;
        this.maxTopics = maxTopics;
    }

    /** Loads the filters and follows the other instances' changes to them. */
    void start() {
        store.watchSubscriptions(this::subscribed, this::reload);
        reload();
    }

    private void reload() {
        List<String> loaded = Collections.synchronizedList(new ArrayList<>());
        subscriptions.allFilters(loaded::add).whenComplete((done, e) -> {
            if (e != null) {
                LOG.warn("Subscriptions not loaded from the store: {}", e.toString());
                return;
            }
            synchronized (filters) {
                filters.clear();
                loaded.forEach(filters::add);
            }
            LOG.debug("{} subscribed topic filters loaded", loaded.size());
        });
    }

    /** The filter gained its first subscriber, or lost its last (through this instance or another). */
    void subscribed(String filter, boolean subscribed) {
        synchronized (filters) {
            if (subscribed) {
                filters.add(filter);
            } else {
                filters.remove(filter);
            }
        }
    }

    /** Delivers a message to the devices subscribed to its topic, at most at the QoS each was granted. */
    CompletionStage<Outcome> deliver(String topic, byte[] payload, int qos, boolean retain) {
        List<String> matching;
        synchronized (filters) {
            matching = filters.match(topic);
        }
        if (matching.isEmpty()) {
            metrics.downlink("no_subscriber");
            return CompletableFuture.completedFuture(new Outcome(0, 0, 0));
        }
        int topicIdType;
        int topicId;
        Integer predefined = predefinedIds.get(topic);
        if (predefined != null) {
            topicIdType = Flags.TOPIC_PREDEFINED;
            topicId = predefined;
        } else if (topic.length() == 2 && topic.charAt(0) < 0x80 && topic.charAt(1) < 0x80) {
            // a short topic name is two octets: two ASCII characters
            topicIdType = Flags.TOPIC_SHORT;
            topicId = topic.charAt(0) << 8 | topic.charAt(1);
        } else {
            topicIdType = Flags.TOPIC_NORMAL;
            topicId = 0;
        }
        return subscriptions.deliver(matching, topic, topicIdType, topicId, qos, retain, payload,
                System.currentTimeMillis() + retryMillis, maxTopics, maxKept).thenApply(deliveries -> {
                    int sent = 0;
                    int kept = 0;
                    for (Subscriptions.Delivery delivery : deliveries) {
                        if (delivery.send()) {
                            send(Peer.at(replies, delivery.address(), portInKey), topic, topicIdType, delivery.topicId(),
                                    delivery.newTopicId(), delivery.msgId(), delivery.qos(), retain, false, payload);
                            sent++;
                        } else if (delivery.kept()) {
                            kept++;
                        }
                    }
                    metrics.downlink("sent", sent);
                    metrics.downlink("kept", kept);
                    metrics.downlink("not_delivered", deliveries.size() - sent - kept);
                    return new Outcome(sent, kept, deliveries.size() - sent - kept);
                });
    }

    /** A sleeping client woke: its kept messages are sent, then the PINGRESP that sends it back to sleep. */
    void wake(Peer peer, String clientId) {
        subscriptions.wake(clientId, peer.address(), System.currentTimeMillis() + retryMillis, maxTopics)
                .whenComplete((woken, e) -> {
                    if (e != null) {
                        log.warn("store unavailable", "kept messages of " + clientId + " not read: " + e.getMessage(), peer);
                    } else {
                        for (Subscriptions.Woken message : woken) {
                            Subscriptions.Record record = message.record();
                            send(peer, record.topic(), record.topicIdType(), record.topicId(), message.newTopicId(),
                                    message.msgId(), record.qos(), record.retain(), false, record.payload());
                        }
                        metrics.downlink("sent", woken.size());
                    }
                    peer.reply(Encoder.pingresp());
                });
    }

    /** PUBACK from a client for a message of ours: done, or to be registered again and resent when the id was unknown. */
    void acknowledged(Peer peer, String clientId, int msgId, int returnCode) {
        CompletionStage<Void> settled = returnCode == ReturnCode.INVALID_TOPIC_ID
                ? subscriptions.retryNow(clientId, msgId)
                : subscriptions.acknowledged(clientId, msgId);
        settled.whenComplete((ok, e) -> {
            if (e != null) {
                log.warn("store unavailable", "PUBACK " + msgId + " of " + clientId + " not recorded: " + e.getMessage(), peer);
            }
        });
        if (returnCode != ReturnCode.ACCEPTED && returnCode != ReturnCode.INVALID_TOPIC_ID) {
            metrics.downlink("refused");
            log.warn("downlink refused", clientId + " answered message " + msgId + " with " + ReturnCode.label(returnCode), peer);
        }
    }

    /** PUBREC for a QoS 2 message of ours: PUBREL, again on every PUBREC; retries send PUBREL until PUBCOMP. */
    void received(Peer peer, String clientId, int msgId) {
        subscriptions.released(clientId, msgId, System.currentTimeMillis() + retryMillis).whenComplete((inFlight, e) -> {
            if (e != null) {
                log.warn("store unavailable", "PUBREC " + msgId + " of " + clientId + " not recorded: " + e.getMessage(), peer);
            }
        });
        peer.reply(Encoder.qosStep(MessageType.PUBREL, msgId));
    }

    /** PUBCOMP: a QoS 2 message of ours is delivered. */
    void completed(Peer peer, String clientId, int msgId) {
        acknowledged(peer, clientId, msgId, ReturnCode.ACCEPTED);
    }

    /** Sends again what was not acknowledged in time, on whichever instance claims it. */
    void retryDue() {
        subscriptions.claimRetries(System.currentTimeMillis() + retryMillis, maxAttempts, maxKept).whenComplete((due, e) -> {
            if (e != null) {
                log.warn("downlink retry check failed", e.getMessage(), "store");
                return;
            }
            for (Subscriptions.Retry retry : due) {
                Subscriptions.Record record = retry.record();
                if (!retry.send()) {
                    metrics.downlink("dropped");
                    log.warn("downlink dropped", "message " + retry.msgId() + " to " + retry.clientId() + " on " + record.topic()
                            + " after " + record.attempts() + " attempts (client " + retry.addressOrState() + ")", "retry");
                    continue;
                }
                metrics.downlink("retried");
                Peer peer = Peer.at(replies, retry.addressOrState(), portInKey);
                if (record.released()) {
                    peer.reply(Encoder.qosStep(MessageType.PUBREL, retry.msgId()));
                } else {
                    send(peer, record.topic(), record.topicIdType(), record.topicId(), record.topicIdType() == Flags.TOPIC_NORMAL,
                            retry.msgId(), record.qos(), record.retain(), true, record.payload());
                }
            }
        });
    }

    private void send(Peer peer, String topic, int topicIdType, int topicId, boolean register, int msgId, int qos,
                      boolean retain, boolean dup, byte[] payload) {
        if (register) {
            // the REGISTER's own message id: the PUBLISH's, or 1 for QoS 0 (the client only echoes it in REGACK)
            peer.reply(Encoder.register(topicId, msgId == 0 ? 1 : msgId, topic.getBytes(StandardCharsets.UTF_8)));
        }
        int flags = (qos << 5) | (retain ? Flags.RETAIN : 0) | (dup ? Flags.DUP : 0) | topicIdType;
        peer.reply(Encoder.publish(flags, topicId, msgId, payload));
    }
}
