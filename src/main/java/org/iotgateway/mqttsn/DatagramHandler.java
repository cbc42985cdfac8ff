package org.iotgateway.mqttsn;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
import org.iotgateway.mqtt.TopicFilter;
import org.iotgateway.mqttsn.protocol.Decoder;
import org.iotgateway.mqttsn.protocol.DropReason;
import org.iotgateway.mqttsn.protocol.Encoder;
import org.iotgateway.mqttsn.protocol.Flags;
import org.iotgateway.mqttsn.protocol.Frame;
import org.iotgateway.mqttsn.protocol.MalformedPacketException;
import org.iotgateway.mqttsn.protocol.Message;
import org.iotgateway.mqttsn.protocol.MessageType;
import org.iotgateway.mqttsn.protocol.ReturnCode;
import org.iotgateway.mqttsn.protocol.TopicNames;
import org.iotgateway.mqttsn.store.ClientSessions;
import org.iotgateway.mqttsn.store.SessionStore;

/**
 * The protocol of one UDP socket: decodes each datagram, answers the control messages, and hands each accepted PUBLISH
 * to the consumer. Everything here runs on the socket's event-loop thread: a store read that misses the near cache
 * continues there when Redis answers, never on the store client's I/O thread, where a slow route step would hold up
 * every other device's store reads. The consumer then runs the route on its pool, or on this thread with
 * {@code routeThreads=0}.
 */
final class DatagramHandler extends SimpleChannelInboundHandler<DatagramPacket> {

    private final MqttSnConsumer consumer;
    private final SessionStore store;
    private final ClientSessions sessions;
    /** Beyond this many datagrams waiting behind a store read, a peer's datagrams are dropped as a flood. */
    private static final int MAX_HELD_PER_PEER = 1000;
    private static final String FLOOD_DETAIL = "more than the flood limit per second from its address";
    private final GatewayMetrics metrics;
    private final ThrottledLog log;
    private final FloodGuard floodGuard;
    private final Map<Integer, String> predefinedTopics;
    private final boolean portInKey;
    private final int gatewayId;
    private final int maxTopicNameLength;
    private final int maxClientIdLength;
    private final long maxStoreKeys;
    private final SourceRanges qosMinusOneSources;
    private ReplyWriter replies;
    private EventLoop loop;
    /**
     * Datagrams of peers whose earlier datagram waits for the store, by client key, in the order they came: a device's
     * readings are routed in the order it sent them even when the first needs Redis and the next finds the near cache
     * filled by that very answer. Only the event loop touches it.
     */
    private final Map<String, ArrayDeque<Runnable>> held = new HashMap<>();

    DatagramHandler(MqttSnConsumer consumer, SessionStore store, GatewayMetrics metrics, ThrottledLog log,
                    Map<Integer, String> predefinedTopics) {
        this.consumer = consumer;
        this.store = store;
        this.sessions = store.sessions();
        this.metrics = metrics;
        this.log = log;
        MqttSnEndpoint endpoint = consumer.getEndpoint();
        this.portInKey = endpoint.isUsePortNumberInClientStore();
        this.floodGuard = new FloodGuard(endpoint.getFloodLimit(), portInKey);
        this.predefinedTopics = predefinedTopics;
        this.gatewayId = endpoint.getGatewayId();
        this.maxTopicNameLength = endpoint.getMaxTopicNameLength();
        this.maxClientIdLength = endpoint.getMaxClientIdLength();
        this.maxStoreKeys = endpoint.getMaxStoreKeys();
        this.qosMinusOneSources = endpoint.qosMinusOneSourceRanges();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        replies = ReplyWriter.attachTo(ctx.channel());
        loop = ctx.channel().eventLoop();
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        long receivedAt = System.nanoTime();
        metrics.received();
        if (!floodGuard.admit(packet.sender())) {
            drop(DropReason.FLOOD, FLOOD_DETAIL, packet.sender());
            return;
        }
        Frame frame;
        try {
            frame = Decoder.decode(packet.content().nioBuffer());
        } catch (MalformedPacketException e) {
            drop(e.reason(), e.getMessage(), packet.sender());
            protocolError(new Peer(replies, packet.sender(), Frame.UNDECODED, portInKey));
            return;
        }
        Peer peer = new Peer(replies, packet.sender(), frame, portInKey);
        ArrayDeque<Runnable> waiting = held.get(peer.clientKey());
        if (waiting == null) {
            handle(peer, frame.message(), receivedAt);
        } else if (waiting.size() < MAX_HELD_PER_PEER) {
            waiting.add(() -> handle(peer, frame.message(), receivedAt));
        } else {
            drop(DropReason.FLOOD, MAX_HELD_PER_PEER + " datagrams already wait for the store's answer to an earlier one", peer);
        }
    }

    private void handle(Peer peer, Message message, long receivedAt) {
        if (message instanceof Message.Publish publish) {
            onPublish(peer, publish, receivedAt);
        } else if (message instanceof Message.Connect connect) {
            onConnect(peer, connect);
        } else if (message instanceof Message.Register register) {
            onRegister(peer, register);
        } else if (message instanceof Message.PingReq ping) {
            onPing(peer, ping);
        } else if (message instanceof Message.Disconnect disconnect) {
            onDisconnect(peer, disconnect);
        } else if (message instanceof Message.WillTopic willTopic) {
            onWillTopic(peer, willTopic);
        } else if (message instanceof Message.WillMessage willMessage) {
            onWillMessage(peer, willMessage);
        } else if (message instanceof Message.QosStep step) {
            onQosStep(peer, step);
        } else if (message instanceof Message.SearchGw) {
            peer.reply(Encoder.gwinfo(gatewayId));
        } else if (message instanceof Message.Subscription subscription) {
            onSubscription(peer, subscription);
        } else if (message instanceof Message.Ack ack) {
            onAck(peer, ack);
        } else if (message instanceof Message.Ignored ignored) {
            drop(DropReason.UNEXPECTED_TYPE, String.format("type 0x%02x is not handled by this gateway", ignored.type()), peer);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // a UDP socket has no connection to lose: report and keep serving every other client
        log.warn("socket error", cause.toString(), ctx.channel().localAddress());
    }

    private void onConnect(Peer peer, Message.Connect connect) {
        if (connect.protocolId() != 0x01) {
            peer.reply(Encoder.connack(ReturnCode.NOT_SUPPORTED));
            return;
        }
        String clientId = connect.clientId();
        if (clientId.length() > maxClientIdLength) {
            refuse(Refusal.CLIENT_ID_LENGTH, "client id of " + clientId.length() + " characters, more than " + maxClientIdLength, peer);
            peer.reply(Encoder.connack(ReturnCode.NOT_SUPPORTED));
            return;
        }
        if (maxStoreKeys > 0 && store.keyCount() >= maxStoreKeys && !clientId.equals(cachedClientId(peer))) {
            refuse(Refusal.STORE_FULL, "the store holds " + store.keyCount() + " keys, the most allowed is " + maxStoreKeys, peer);
            peer.reply(Encoder.connack(ReturnCode.CONGESTION));
            return;
        }
        // the address's count of clients first: a refused client leaves nothing in the store
        onLoop(peer, store.admit(peer.addressKey(), clientId), (seenThere, e) -> {
            if (e != null) {
                storeFailed("CONNECT", e, peer);
                peer.reply(Encoder.connack(ReturnCode.CONGESTION));
            } else if (seenThere < 0) {
                refuse(Refusal.CLIENTS_PER_ADDRESS, "client " + clientId + " would be one client too many at this address", peer);
                peer.reply(Encoder.connack(ReturnCode.CONGESTION));
            } else {
                startSession(peer, connect, seenThere);
            }
        });
    }

    /** The admitted client's binding, session and (clean) subscriptions, written side by side. */
    private void startSession(Peer peer, Message.Connect connect, long seenThere) {
        CompletableFuture<Void> bound = store.bind(peer.clientKey(), peer.sharedKey(), connect.clientId(), connect.cleanSession(),
                seenThere).toCompletableFuture();
        CompletableFuture<Void> cleared = connect.cleanSession()
                ? consumer.clearSubscriptions(connect.clientId()).toCompletableFuture()
                : CompletableFuture.completedFuture(null);
        CompletableFuture<Void> session = sessions.connect(connect.clientId(), peer.address(), connect.duration(), connect.will(),
                connect.cleanSession())
                .toCompletableFuture();
        onLoop(peer, CompletableFuture.allOf(bound, session, cleared), (ok, e) -> {
            if (e != null) {
                storeFailed("CONNECT", e, peer);
                peer.reply(Encoder.connack(ReturnCode.CONGESTION));
            } else {
                // with the Will flag, CONNACK follows WILLTOPIC and WILLMSG; any instance may receive those
                peer.reply(connect.will() ? Encoder.willtopicreq() : Encoder.connack(ReturnCode.ACCEPTED));
            }
        });
    }

    /**
     * WILLTOPIC answers WILLMSGREQ (an empty one, no will: CONNACK); WILLTOPICUPD answers WILLTOPICRESP. A topic that
     * could not be published to is refused: CONNACK or WILLTOPICRESP rc 3.
     */
    private void onWillTopic(Peer peer, Message.WillTopic will) {
        String refusal = will.topic() == null ? null : TopicNames.refusal(will.topic(), maxTopicNameLength);
        if (refusal != null) {
            refuse(Refusal.TOPIC_NAME, "will topic: " + refusal, peer);
            peer.reply(will.update() ? Encoder.willtopicresp(ReturnCode.NOT_SUPPORTED) : Encoder.connack(ReturnCode.NOT_SUPPORTED));
            return;
        }
        Runnable congestion = () -> peer.reply(will.update()
                ? Encoder.willtopicresp(ReturnCode.CONGESTION) : Encoder.connack(ReturnCode.CONGESTION));
        withClient(peer, "WILLTOPIC", congestion, clientId -> onLoop(peer, sessions.willTopic(clientId, will.flags(), will.topic()), (ok, e) -> {
            if (e != null) {
                storeFailed("WILLTOPIC", e, peer);
                congestion.run();
            } else if (will.update()) {
                peer.reply(Encoder.willtopicresp(ReturnCode.ACCEPTED));
            } else {
                peer.reply(will.topic() == null ? Encoder.connack(ReturnCode.ACCEPTED) : Encoder.willmsgreq());
            }
        }));
    }

    /** WILLMSG completes the CONNECT (CONNACK); WILLMSGUPD answers WILLMSGRESP. */
    private void onWillMessage(Peer peer, Message.WillMessage will) {
        Runnable congestion = () -> peer.reply(will.update()
                ? Encoder.willmsgresp(ReturnCode.CONGESTION) : Encoder.connack(ReturnCode.CONGESTION));
        withClient(peer, "WILLMSG", congestion, clientId -> onLoop(peer, sessions.willMessage(clientId, will.payload()), (ok, e) -> {
            if (e != null) {
                storeFailed("WILLMSG", e, peer);
                congestion.run();
            } else {
                peer.reply(will.update() ? Encoder.willmsgresp(ReturnCode.ACCEPTED) : Encoder.connack(ReturnCode.ACCEPTED));
            }
        }));
    }

    /** PINGREQ renews the client's deadline; with a client id it wakes a sleeping client. Always answered PINGRESP. */
    private void onPing(Peer peer, Message.PingReq ping) {
        Downlink downlink = consumer.downlink();
        if (ping.clientId() != null && downlink != null) {
            // a sleeping client waking: what was kept for it comes first, then PINGRESP
            sessions.touch(ping.clientId());
            downlink.wake(peer, ping.clientId());
            return;
        }
        peer.reply(Encoder.pingresp());
        String clientId = ping.clientId() != null ? ping.clientId() : cachedClientId(peer);
        if (clientId != null) {
            sessions.touch(clientId);
        } else if (!store.isClientCached(peer.clientKey())) {
            // a client this instance has not served yet: its pings must count here too
            onLoop(peer, store.clientId(peer.clientKey(), peer.sharedKey()), (known, e) -> {
                if (known != null) {
                    sessions.touch(known);
                }
            });
        }
    }

    /**
     * DISCONNECT is answered at once, as clients wait for it. Without a duration the client's will and supervision end
     * (its registrations stay: meters publish again after it); with one it is asleep for that long.
     */
    private void onDisconnect(Peer peer, Message.Disconnect disconnect) {
        peer.reply(Encoder.disconnect());
        String cached = cachedClientId(peer);
        Consumer<String> ending = clientId -> (disconnect.duration() < 0 ? sessions.disconnect(clientId)
                : sessions.sleep(clientId, disconnect.duration()))
                .whenComplete((ok, e) -> {
                    if (e != null) {
                        storeFailed("DISCONNECT", e, peer);
                    }
                });
        if (cached != null) {
            ending.accept(cached);
        } else {
            onLoop(peer, store.clientId(peer.clientKey(), peer.sharedKey()), (clientId, e) -> {
                if (clientId != null) {
                    ending.accept(clientId);
                }
            });
        }
    }

    /**
     * PUBREL ends a QoS 2 PUBLISH of the client's: PUBCOMP, whether or not the message id is still known (a resent
     * PUBREL). PUBREC and PUBCOMP are the client's steps of a QoS 2 message of the gateway's.
     */
    private void onQosStep(Peer peer, Message.QosStep step) {
        if (step.type() != MessageType.PUBREL) {
            Downlink downlink = consumer.downlink();
            if (downlink == null) {
                drop(DropReason.UNEXPECTED_TYPE, MessageType.name(step.type()) + " with no downlink on this gateway", peer);
            } else if (step.type() == MessageType.PUBREC) {
                withClient(peer, "PUBREC", () -> { }, clientId -> downlink.received(peer, clientId, step.msgId()));
            } else {
                withClient(peer, "PUBCOMP", () -> { }, clientId -> downlink.completed(peer, clientId, step.msgId()));
            }
            return;
        }
        withClient(peer, "PUBREL", () -> { }, clientId -> onLoop(peer, sessions.qos2Forget(clientId, step.msgId()), (ok, e) -> {
            if (e != null) {
                // no PUBCOMP: the client sends PUBREL again
                storeFailed("PUBREL", e, peer);
            } else {
                peer.reply(Encoder.qosStep(MessageType.PUBCOMP, step.msgId()));
            }
        }));
    }

    /** A datagram that breaks the protocol from a known client's address: the client is lost (its will published). */
    private void protocolError(Peer peer) {
        String clientId = cachedClientId(peer);
        if (clientId != null) {
            sessions.lost(clientId);
        }
    }

    private void onRegister(Peer peer, Message.Register register) {
        String refusal = TopicNames.refusal(register.topicName(), maxTopicNameLength);
        if (refusal != null) {
            refuse(Refusal.TOPIC_NAME, "REGISTER: " + refusal, peer);
            peer.reply(Encoder.regack(0, register.msgId(), ReturnCode.NOT_SUPPORTED));
            return;
        }
        Runnable congestion = () -> peer.reply(Encoder.regack(0, register.msgId(), ReturnCode.CONGESTION));
        withClient(peer, "REGISTER", congestion, clientId -> onLoop(peer, store.register(clientId, register.topicName()), (id, e) -> {
            if (e != null) {
                storeFailed("REGISTER", e, peer);
                congestion.run();
            } else if (id == 0) {
                refuse(Refusal.TOPICS_PER_CLIENT, "REGISTER: client " + clientId + " has registered the most topic names allowed", peer);
                peer.reply(Encoder.regack(0, register.msgId(), ReturnCode.NOT_SUPPORTED));
            } else {
                peer.reply(Encoder.regack(id, register.msgId(), ReturnCode.ACCEPTED));
            }
        }));
    }

    private void onPublish(Peer peer, Message.Publish publish, long receivedAt) {
        if (publish.qos() == -1) {
            // QoS -1 needs no session: only predefined ids and short names can be resolved
            String topic = topicWithoutSession(publish);
            String clientId = cachedClientId(peer);
            if (topic == null) {
                reject(peer, publish, publish.topicIdType() == Flags.TOPIC_NORMAL
                        ? ReturnCode.NOT_SUPPORTED : ReturnCode.INVALID_TOPIC_ID);
            } else if (publish.topicIdType() == Flags.TOPIC_SHORT && clientId == null
                       && !qosMinusOneSources.includes(peer.sender())) {
                // a short name is any two characters: from anyone, every datagram would be a message
                refuse(Refusal.QOS_MINUS_ONE_SOURCE, "QoS -1 PUBLISH to short topic " + topic
                        + " from a source not in qosMinusOneSources and not connected", peer);
                reject(peer, publish, ReturnCode.NOT_SUPPORTED);
            } else {
                consumer.dispatch(peer, publish, clientId, topic, receivedAt);
            }
            return;
        }
        String cachedClientId = store.cachedClientId(peer.clientKey());
        if (cachedClientId != null) {
            publishFromClient(peer, publish, cachedClientId, receivedAt);
        } else if (store.isClientCached(peer.clientKey())) {
            unknownClient(peer, "PUBLISH");
        } else {
            withClient(peer, "PUBLISH", () -> reject(peer, publish, ReturnCode.CONGESTION),
                    clientId -> publishFromClient(peer, publish, clientId, receivedAt));
        }
    }

    /** The client the near cache knows at the sender's exact address, else at its shared one when only one is there. */
    private String cachedClientId(Peer peer) {
        String clientId = store.cachedClientId(peer.clientKey());
        return clientId != null || portInKey ? clientId : store.cachedSharedClientId(peer.sharedKey());
    }

    private void publishFromClient(Peer peer, Message.Publish publish, String clientId, long receivedAt) {
        sessions.touch(clientId);
        if (publish.qos() == 2) {
            publishOnce(peer, publish, clientId, receivedAt);
            return;
        }
        resolveAndDispatch(peer, publish, clientId, receivedAt);
    }

    /**
     * QoS 2: routed once whatever the retries. A PUBLISH being routed (by any instance) is not answered again; one
     * already routed is answered PUBREC until the client's PUBREL.
     */
    private void publishOnce(Peer peer, Message.Publish publish, String clientId, long receivedAt) {
        onLoop(peer, sessions.qos2Begin(clientId, publish.msgId()), (known, e) -> {
            if (e != null) {
                storeFailed("PUBLISH", e, peer);
                reject(peer, publish, ReturnCode.CONGESTION);
            } else if (known == ClientSessions.Qos2.NEW) {
                resolveAndDispatch(peer, publish, clientId, receivedAt);
            } else if (known == ClientSessions.Qos2.RECEIVED) {
                peer.reply(Encoder.qosStep(MessageType.PUBREC, publish.msgId()));
            } else {
                metrics.retryHeld();
            }
        });
    }

    private void resolveAndDispatch(Peer peer, Message.Publish publish, String clientId, long receivedAt) {
        if (publish.topicIdType() != Flags.TOPIC_NORMAL) {
            String topic = topicWithoutSession(publish);
            if (topic == null) {
                reject(peer, publish, clientId, ReturnCode.INVALID_TOPIC_ID);
            } else {
                consumer.dispatch(peer, publish, clientId, topic, receivedAt);
            }
            return;
        }
        if (!TopicNames.isValidTopicId(publish.topicId())) {
            reject(peer, publish, clientId, ReturnCode.INVALID_TOPIC_ID);
            return;
        }
        String cached = store.cachedTopicName(clientId, publish.topicId());
        if (cached != null) {
            consumer.dispatch(peer, publish, clientId, cached, receivedAt);
            return;
        }
        onLoop(peer, store.topicName(clientId, publish.topicId()), (topic, e) -> {
            if (e != null) {
                storeFailed("PUBLISH", e, peer);
                reject(peer, publish, clientId, ReturnCode.CONGESTION);
            } else if (topic == null) {
                reject(peer, publish, clientId, ReturnCode.INVALID_TOPIC_ID);
            } else {
                consumer.dispatch(peer, publish, clientId, topic, receivedAt);
            }
        });
    }

    private String topicWithoutSession(Message.Publish publish) {
        return switch (publish.topicIdType()) {
            case Flags.TOPIC_PREDEFINED -> predefinedTopics.get(publish.topicId());
            case Flags.TOPIC_SHORT -> {
                String name = TopicNames.shortName(publish.topicId());
                yield TopicNames.refusal(name, maxTopicNameLength) == null ? name : null;
            }
            default -> null;
        };
    }

    /**
     * SUBSCRIBE and UNSUBSCRIBE: topic filters (with wildcards), short names and predefined ids, kept in the store; the
     * first subscriber of a filter binds the downlink queue to it, the last one's leaving unbinds it. Granted QoS is
     * the requested one (-1 as 0). Declined (SUBACK rc 3) when the gateway has no downlink.
     */
    private void onSubscription(Peer peer, Message.Subscription subscription) {
        boolean subscribe = subscription.type() == MessageType.SUBSCRIBE;
        Downlink downlink = consumer.downlink();
        int granted = Math.max(0, subscription.qos());
        if (downlink == null) {
            peer.reply(subscribe ? Encoder.suback(granted << 5, 0, subscription.msgId(), ReturnCode.NOT_SUPPORTED)
                    : Encoder.unsuback(subscription.msgId()));
            return;
        }
        String filter = subscription.topicIdType() == Flags.TOPIC_PREDEFINED
                ? predefinedTopics.get(subscription.topicId()) : subscription.topicName();
        String refusal = filter == null ? "predefined topic id " + subscription.topicId() + " is not defined"
                : filterRefusal(filter);
        if (refusal != null) {
            log.warn((subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE") + " refused", refusal, peer);
            peer.reply(subscribe ? Encoder.suback(granted << 5, 0, subscription.msgId(),
                    filter == null ? ReturnCode.INVALID_TOPIC_ID : ReturnCode.NOT_SUPPORTED) : Encoder.unsuback(subscription.msgId()));
            return;
        }
        Runnable congestion = () -> {
            if (subscribe) {
                peer.reply(Encoder.suback(granted << 5, 0, subscription.msgId(), ReturnCode.CONGESTION));
            }
        };
        String what = subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE";
        withClient(peer, what, congestion, clientId -> {
            CompletableFuture<Integer> done = subscribe
                    ? subscribe(clientId, filter, subscription, granted).toCompletableFuture()
                    : consumer.unsubscribe(clientId, filter).thenApply(x -> 0).toCompletableFuture();
            onLoop(peer, done, (topicId, e) -> {
                if (e != null) {
                    storeFailed(what, e, peer);
                    congestion.run();
                } else if (subscribe) {
                    peer.reply(Encoder.suback(granted << 5, topicId, subscription.msgId(), ReturnCode.ACCEPTED));
                } else {
                    peer.reply(Encoder.unsuback(subscription.msgId()));
                }
            });
        });
    }

    /**
     * Subscribes and answers the topic id the gateway will publish with: a name without wildcards is registered for
     * the client (its id in SUBACK); a short name or a filter has none (0); a predefined id is its own.
     */
    private CompletionStage<Integer> subscribe(String clientId, String filter, Message.Subscription subscription, int granted) {
        boolean named = subscription.topicIdType() == Flags.TOPIC_NORMAL && filter.indexOf('+') < 0 && filter.indexOf('#') < 0;
        CompletionStage<Integer> topicId = named ? store.register(clientId, filter)
                : CompletableFuture.completedFuture(subscription.topicIdType() == Flags.TOPIC_PREDEFINED ? subscription.topicId() : 0);
        return topicId.thenCompose(id -> consumer.subscribe(clientId, filter, granted).thenApply(x -> id));
    }

    /** Why a topic filter cannot be subscribed to, or null: MQTT's filter syntax, and the topic name length limit. */
    private String filterRefusal(String filter) {
        if (filter.startsWith("$share/")) {
            return "MQTT-SN has no shared subscriptions";
        }
        try {
            TopicFilter.parse(filter);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        String asName = filter.replace('+', 'x').replace('#', 'x');
        return TopicNames.refusal(asName, maxTopicNameLength);
    }

    /** PUBACK for a message of the gateway's; REGACK needs nothing (the PUBLISH follows its REGISTER at once). */
    private void onAck(Peer peer, Message.Ack ack) {
        Downlink downlink = consumer.downlink();
        if (ack.type() != MessageType.PUBACK || downlink == null) {
            return;
        }
        withClient(peer, "PUBACK", () -> { }, clientId -> downlink.acknowledged(peer, clientId, ack.msgId(), ack.returnCode()));
    }

    /**
     * Runs the action with the client id bound to the peer's address, answers DISCONNECT when there is none, and runs
     * {@code storeDown} (a congestion reply: the client retries later) when the store cannot say.
     */
    private void withClient(Peer peer, String what, Runnable storeDown, Consumer<String> action) {
        onLoop(peer, store.clientId(peer.clientKey(), peer.sharedKey()), (clientId, e) -> {
            if (e != null && (e instanceof SessionStore.AmbiguousClientException
                    || e.getCause() instanceof SessionStore.AmbiguousClientException)) {
                // never guess: a DISCONNECT makes the device CONNECT again, which binds its port
                unknownClient(peer, what + " (" + (e.getCause() != null ? e.getCause() : e).getMessage() + ")");
            } else if (e != null) {
                storeFailed(what, e, peer);
                storeDown.run();
            } else if (clientId == null) {
                unknownClient(peer, what);
            } else {
                action.accept(clientId);
            }
        });
    }

    /**
     * Continues on this socket's event loop: at once when the store answered from its cache, else when Redis answers.
     * Until then the peer's next datagrams wait (see {@link #held}), so that they are handled in the order they came.
     */
    private <T> void onLoop(Peer peer, CompletionStage<T> answer, BiConsumer<? super T, ? super Throwable> next) {
        CompletableFuture<T> future = answer.toCompletableFuture();
        if (future.isDone() && loop.inEventLoop()) {
            future.whenComplete(next);
            return;
        }
        String key = peer.clientKey();
        held.putIfAbsent(key, new ArrayDeque<>());
        future.whenCompleteAsync((value, e) -> {
            ArrayDeque<Runnable> waiting = held.remove(key);
            next.accept(value, e);
            while (waiting != null && !waiting.isEmpty()) {
                ArrayDeque<Runnable> again = held.get(key);
                if (again != null) {
                    // the continuation (or a datagram it let through) waits for the store again: the rest queue behind it
                    again.addAll(waiting);
                    return;
                }
                waiting.poll().run();
            }
        }, loop);
    }

    private void unknownClient(Peer peer, String what) {
        metrics.unknownClient();
        log.warn("unknown client", what + " from an address with no session: answered DISCONNECT", peer);
        peer.reply(Encoder.disconnect());
    }

    private void reject(Peer peer, Message.Publish publish, int returnCode) {
        reject(peer, publish, null, returnCode);
    }

    /** A refused QoS 2 PUBLISH is forgotten: the client may send it again, to be routed then. */
    private void reject(Peer peer, Message.Publish publish, String clientId, int returnCode) {
        if (publish.qos() == 2 && clientId != null) {
            sessions.qos2Forget(clientId, publish.msgId());
        }
        metrics.rejected(returnCode);
        log.warn("PUBLISH rejected", "topic id " + publish.topicId() + " (type " + publish.topicIdType() + "): "
                + ReturnCode.label(returnCode), peer);
        peer.reply(Encoder.puback(publish.topicId(), publish.msgId(), returnCode));
    }

    private void refuse(Refusal reason, String detail, Peer peer) {
        metrics.refused(reason);
        log.warn(reason.logReason(), detail, peer);
    }

    private void storeFailed(String what, Throwable e, Object peer) {
        metrics.storeError();
        log.warn("store unavailable", what + ": " + e.getMessage(), peer);
    }

    private void drop(DropReason reason, String detail, Object source) {
        metrics.dropped(reason);
        log.warn(reason.logReason(), detail, source);
    }
}
