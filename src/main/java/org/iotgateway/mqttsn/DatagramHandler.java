package org.iotgateway.mqttsn;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;
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
    private final GatewayMetrics metrics;
    private final ThrottledLog log;
    private final FloodGuard floodGuard;
    private final Map<Integer, String> predefinedTopics;
    private final boolean portInKey;
    private final int gatewayId;
    private final int maxTopicNameLength;
    private ReplyWriter replies;
    private EventLoop loop;

    DatagramHandler(MqttSnConsumer consumer, SessionStore store, GatewayMetrics metrics, ThrottledLog log,
                    Map<Integer, String> predefinedTopics) {
        this.consumer = consumer;
        this.store = store;
        this.metrics = metrics;
        this.log = log;
        MqttSnEndpoint endpoint = consumer.getEndpoint();
        this.floodGuard = new FloodGuard(endpoint.getFloodLimit());
        this.predefinedTopics = predefinedTopics;
        this.portInKey = endpoint.isUsePortNumberInClientStore();
        this.gatewayId = endpoint.getGatewayId();
        this.maxTopicNameLength = endpoint.getMaxTopicNameLength();
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
            drop(DropReason.FLOOD, "more than the flood limit per second", packet.sender());
            return;
        }
        Frame frame;
        try {
            frame = Decoder.decode(packet.content().nioBuffer());
        } catch (MalformedPacketException e) {
            drop(e.reason(), e.getMessage(), packet.sender());
            return;
        }
        Peer peer = new Peer(replies, packet.sender(), frame, portInKey);
        Message message = frame.message();
        if (message instanceof Message.Publish publish) {
            onPublish(peer, publish, receivedAt);
        } else if (message instanceof Message.Connect connect) {
            onConnect(peer, connect);
        } else if (message instanceof Message.Register register) {
            onRegister(peer, register);
        } else if (message instanceof Message.PingReq) {
            peer.reply(Encoder.pingresp());
        } else if (message instanceof Message.Disconnect) {
            // sessions outlive DISCONNECT (meters sleep between readings); the reply is what clients wait for
            peer.reply(Encoder.disconnect());
        } else if (message instanceof Message.SearchGw) {
            peer.reply(Encoder.gwinfo(gatewayId));
        } else if (message instanceof Message.Subscription subscription) {
            onSubscription(peer, subscription);
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
        // the Will flag is ignored, as the Python gateway does: CONNACK follows at once
        onLoop(store.connect(peer.clientKey(), peer.sharedKey(), connect.clientId(), connect.cleanSession()), (ok, e) -> {
            if (e != null) {
                storeFailed("CONNECT", e, peer);
            }
            peer.reply(Encoder.connack(e == null ? ReturnCode.ACCEPTED : ReturnCode.CONGESTION));
        });
    }

    private void onRegister(Peer peer, Message.Register register) {
        String refusal = TopicNames.refusal(register.topicName(), maxTopicNameLength);
        if (refusal != null) {
            metrics.registerRefused();
            log.warn("REGISTER refused", refusal + ": answered not supported", peer);
            peer.reply(Encoder.regack(0, register.msgId(), ReturnCode.NOT_SUPPORTED));
            return;
        }
        Runnable congestion = () -> peer.reply(Encoder.regack(0, register.msgId(), ReturnCode.CONGESTION));
        withClient(peer, "REGISTER", congestion, clientId -> onLoop(store.register(clientId, register.topicName()), (id, e) -> {
            if (e != null) {
                storeFailed("REGISTER", e, peer);
                congestion.run();
            } else if (id == 0) {
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
            if (topic == null) {
                reject(peer, publish, publish.topicIdType() == Flags.TOPIC_NORMAL
                        ? ReturnCode.NOT_SUPPORTED : ReturnCode.INVALID_TOPIC_ID);
            } else {
                consumer.dispatch(peer, publish, cachedClientId(peer), topic, receivedAt);
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
        if (publish.qos() == 2) {
            reject(peer, publish, ReturnCode.NOT_SUPPORTED);
            return;
        }
        if (publish.topicIdType() != Flags.TOPIC_NORMAL) {
            String topic = topicWithoutSession(publish);
            if (topic == null) {
                reject(peer, publish, ReturnCode.INVALID_TOPIC_ID);
            } else {
                consumer.dispatch(peer, publish, clientId, topic, receivedAt);
            }
            return;
        }
        if (!TopicNames.isValidTopicId(publish.topicId())) {
            reject(peer, publish, ReturnCode.INVALID_TOPIC_ID);
            return;
        }
        String cached = store.cachedTopicName(clientId, publish.topicId());
        if (cached != null) {
            consumer.dispatch(peer, publish, clientId, cached, receivedAt);
            return;
        }
        onLoop(store.topicName(clientId, publish.topicId()), (topic, e) -> {
            if (e != null) {
                storeFailed("PUBLISH", e, peer);
                reject(peer, publish, ReturnCode.CONGESTION);
            } else if (topic == null) {
                reject(peer, publish, ReturnCode.INVALID_TOPIC_ID);
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

    private void onSubscription(Peer peer, Message.Subscription subscription) {
        // readings flow one way, to RabbitMQ: there is nothing to subscribe to, and the client is told so
        if (subscription.type() == MessageType.SUBSCRIBE) {
            peer.reply(Encoder.suback(subscription.flags() & Flags.QOS_MASK, subscription.msgId(), ReturnCode.NOT_SUPPORTED));
        } else {
            peer.reply(Encoder.unsuback(subscription.msgId()));
        }
    }

    /**
     * Runs the action with the client id bound to the peer's address, answers DISCONNECT when there is none, and runs
     * {@code storeDown} (a congestion reply: the client retries later) when the store cannot say.
     */
    private void withClient(Peer peer, String what, Runnable storeDown, Consumer<String> action) {
        onLoop(store.clientId(peer.clientKey(), peer.sharedKey()), (clientId, e) -> {
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

    /** Continues on this socket's event loop: at once when the store answered from its cache, else when Redis answers. */
    private <T> void onLoop(CompletionStage<T> answer, BiConsumer<? super T, ? super Throwable> next) {
        CompletableFuture<T> future = answer.toCompletableFuture();
        if (future.isDone() && loop.inEventLoop()) {
            future.whenComplete(next);
        } else {
            future.whenCompleteAsync(next, loop);
        }
    }

    private void unknownClient(Peer peer, String what) {
        metrics.unknownClient();
        log.warn("unknown client", what + " from an address with no session: answered DISCONNECT", peer);
        peer.reply(Encoder.disconnect());
    }

    private void reject(Peer peer, Message.Publish publish, int returnCode) {
        metrics.rejected(returnCode);
        log.warn("PUBLISH rejected", "topic id " + publish.topicId() + " (type " + publish.topicIdType() + "): "
                + ReturnCode.label(returnCode), peer);
        peer.reply(Encoder.puback(publish.topicId(), publish.msgId(), returnCode));
    }

    private void storeFailed(String what, Throwable e, Object peer) {
        metrics.storeError();
        log.warn("store unavailable", what + ": " + e.getMessage(), peer);
    }

    private void drop(DropReason reason, String detail, Object source) {
        metrics.dropped(reason);
        log.warn("dropped datagram (" + reason.label() + ")", detail, source);
    }
}
