package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.builder.ThreadPoolProfileBuilder;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.support.DefaultConsumer;
import org.iotgateway.GatewayMeters;
import org.iotgateway.ReadinessCheck;
import org.iotgateway.mqttsn.protocol.Encoder;
import org.iotgateway.mqttsn.protocol.Flags;
import org.iotgateway.mqttsn.protocol.Message;
import org.iotgateway.mqttsn.protocol.MessageType;
import org.iotgateway.mqttsn.protocol.ReturnCode;
import org.iotgateway.mqttsn.protocol.TopicNames;
import org.iotgateway.mqttsn.store.ClientSessions;
import org.iotgateway.mqttsn.store.SessionStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the UDP socket(s) of an {@code mqttsn:} endpoint and turns each accepted PUBLISH into an exchange. The PUBACK is
 * sent when the exchange completes, so a reading is acknowledged only once the route (typically RabbitMQ with publisher
 * confirms) has it. The route runs on a pool of {@code routeThreads}, never on the socket's event loop, because its
 * steps are the operator's: one that waits must hold only its own device's readings. A device's readings are routed
 * one after another, in the order they arrived (so they reach RabbitMQ in that order); different devices' side by
 * side. {@code routeThreads=0} runs the route on the socket's thread instead, for a route known never to wait: about
 * 18 µs of gateway CPU less per reading at peak (docs/benchmarks.md).
 */
public class MqttSnConsumer extends DefaultConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(MqttSnConsumer.class);
    private static final String[] TOPIC_ID_TYPES = {"normal", "predefined", "short", "reserved"};
    /** The largest UDP payload; a smaller receive buffer would truncate large PUBLISH datagrams silently. */
    private static final int MAX_DATAGRAM = 65536;

    private final AtomicInteger inFlight = new AtomicInteger();
    /**
     * QoS 1 readings waiting for the route, by client address and message id: a device's DUP retry of one of them is
     * answered with the first's outcome when it comes, instead of being published a second time.
     */
    private final Map<Attempt, Boolean> awaitingAnswer = new ConcurrentHashMap<>();
    private final ThrottledLog log = new ThrottledLog(LOG, 10_000);
    private final List<Channel> channels = new ArrayList<>();
    private SessionStore store;
    /** Readiness: DOWN while the store is not connected. */
    private final ReadinessCheck storeCheck = new ReadinessCheck("mqttsn", "mqttsn-store") {
        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            String problem = store == null ? "not started" : store.unavailability();
            if (problem == null) {
                builder.up();
            } else {
                builder.message(problem).down();
            }
        }
    };
    private GatewayMetrics metrics;
    private EventLoopGroup eventLoops;
    private ExecutorService routePool;
    /** Claims lost clients and downlink due again every keepAliveCheckMillis and sends ADVERTISE; the route runs elsewhere. */
    private ScheduledExecutorService supervision;
    /** Messages for devices, when the endpoint has a downlink queue; null otherwise. */
    private volatile Downlink downlink;
    private DownlinkBindings bindings;
    private ExecutorService bindingThread;
    /** Runs the route on {@link #routePool}, each device's readings in the order they arrived. */
    private KeyOrderedExecutor routeExecutor;

    /** A QoS 1 PUBLISH as its retries name it. */
    private record Attempt(String clientKey, int msgId) {
    }

    public MqttSnConsumer(MqttSnEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
    }

    @Override
    public MqttSnEndpoint getEndpoint() {
        return (MqttSnEndpoint) super.getEndpoint();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        MqttSnEndpoint endpoint = getEndpoint();
        var predefinedTopics = endpoint.predefinedTopicTable();
        metrics = new GatewayMetrics(GatewayMeters.registry(getEndpoint().getCamelContext()), endpoint.getPort(), inFlight::get);
        store = new SessionStore(endpoint.getValkeyConnectionString(),
                java.time.Duration.ofSeconds(endpoint.getSessionTtlSeconds()),
                java.time.Duration.ofSeconds(endpoint.getTtlRefreshIntervalSeconds()),
                endpoint.getNearCacheSize(), endpoint.getNearCacheMaxTopicBytes(),
                java.time.Duration.ofSeconds(endpoint.getNearCacheTtlSeconds()),
                java.time.Duration.ofMillis(endpoint.getStoreTimeoutMillis()),
                Math.min(endpoint.getMaxTopicsPerClient(), TopicNames.MAX_TOPIC_ID), endpoint.getMaxClientsPerAddress());
        storeCheck.register(getEndpoint().getCamelContext());
        if (endpoint.getRouteThreads() > 0) {
            // unbounded queue: what waits there is bounded by maxInFlight, and a refusal would break a device's order
            routePool = getEndpoint().getCamelContext().getExecutorServiceManager().newThreadPool(this, "mqttsn-route",
                    new ThreadPoolProfileBuilder("mqttsn-route").poolSize(endpoint.getRouteThreads())
                            .maxPoolSize(endpoint.getRouteThreads()).maxQueueSize(-1).build());
            routeExecutor = new KeyOrderedExecutor(routePool);
        }

        // on the native transport a PUBACK leaves from the thread that has RabbitMQ's confirm, and the event loop writes a
        // batch of replies with one sendmmsg call; with NIO (other systems) every reply waits for the event loop
        boolean epoll = Epoll.isAvailable();
        boolean reusePort = endpoint.getIoThreads() > 1 && epoll;
        int sockets = reusePort ? endpoint.getIoThreads() : 1;
        DefaultThreadFactory threads = new DefaultThreadFactory("mqttsn-udp-" + endpoint.getPort(), true);
        eventLoops = epoll ? new EpollEventLoopGroup(sockets, threads) : new NioEventLoopGroup(1, threads);
        Bootstrap bootstrap = new Bootstrap().group(eventLoops)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, endpoint.getReceiveBufferSize())
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(MAX_DATAGRAM));
        if (reusePort) {
            bootstrap.option(EpollChannelOption.SO_REUSEPORT, true);
        }
        if (endpoint.advertiseSocketAddress() != null) {
            bootstrap.option(ChannelOption.SO_BROADCAST, true);
        }
        InetSocketAddress address = new InetSocketAddress(endpoint.getHost(), endpoint.getPort());
        for (int i = 0; i < sockets; i++) {
            Channel channel = bootstrap
                    .handler(new DatagramHandler(this, store, metrics, log, predefinedTopics))
                    .bind(address).sync().channel();
            channels.add(channel);
        }
        int granted = channels.get(0).config().getOption(ChannelOption.SO_RCVBUF);
        LOG.info("MQTT-SN gateway listening on udp {}:{} ({} socket{}, receive buffer {} bytes)", endpoint.getHost(),
                endpoint.getPort(), sockets, sockets > 1 ? "s" : "", granted);
        if (granted < endpoint.getReceiveBufferSize()) {
            // Linux reports twice what it accounts for; less than asked means net.core.rmem_max capped it
            LOG.warn("The kernel granted a receive buffer of {} bytes for the {} asked (receiveBufferSize): raise"
                     + " net.core.rmem_max to absorb bursts", granted, endpoint.getReceiveBufferSize());
        }
        if (endpoint.hasDownlink()) {
            bindingThread = getEndpoint().getCamelContext().getExecutorServiceManager()
                    .newSingleThreadExecutor(this, "mqttsn-downlink-bindings");
            bindings = new DownlinkBindings(endpoint.getAmqpConnectionString(), endpoint.getDownlinkExchange(),
                    endpoint.getDownlinkQueue(), endpoint.getDownlinkQueueType(), bindingThread);
            bindings.declare();
            downlink = new Downlink(store, channels.get(0).pipeline().get(ReplyWriter.class), endpoint.isUsePortNumberInClientStore(),
                    predefinedTopics, metrics, log, endpoint.getDownlinkRetrySeconds() * 1000L, endpoint.getDownlinkMaxAttempts(),
                    endpoint.getMaxKeptPerSleepingClient(), TopicNames.MAX_TOPIC_ID);
            downlink.start();
        }
        getEndpoint().getComponent().listening(endpoint.getPort(), this);
        supervision = getEndpoint().getCamelContext().getExecutorServiceManager()
                .newSingleThreadScheduledExecutor(this, "mqttsn-supervision");
        supervision.scheduleWithFixedDelay(this::supervise, endpoint.getKeepAliveCheckMillis(),
                endpoint.getKeepAliveCheckMillis(), TimeUnit.MILLISECONDS);
        InetSocketAddress advertiseTo = endpoint.advertiseSocketAddress();
        if (advertiseTo != null) {
            int interval = endpoint.getAdvertiseIntervalSeconds();
            supervision.scheduleAtFixedRate(() -> advertise(advertiseTo, interval), 0, interval, TimeUnit.SECONDS);
            LOG.info("MQTT-SN gateway {} advertising to {} every {} s", endpoint.getGatewayId(), advertiseTo, interval);
        }
    }

    @Override
    protected void doStop() throws Exception {
        getEndpoint().getComponent().stoppedListening(getEndpoint().getPort(), this);
        if (supervision != null) {
            getEndpoint().getCamelContext().getExecutorServiceManager().shutdown(supervision);
        }
        downlink = null;
        if (bindings != null) {
            bindings.close();
            getEndpoint().getCamelContext().getExecutorServiceManager().shutdown(bindingThread);
        }
        // stop taking datagrams, let the readings in flight be confirmed and answered, then close
        for (Channel channel : channels) {
            channel.config().setAutoRead(false);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(getEndpoint().getDrainTimeoutSeconds());
        synchronized (inFlight) {
            for (long left = deadline - System.nanoTime(); inFlight.get() > 0 && left > 0; left = deadline - System.nanoTime()) {
                TimeUnit.NANOSECONDS.timedWait(inFlight, left);
            }
        }
        if (inFlight.get() > 0) {
            LOG.warn("Stopping with {} readings unanswered: their clients will retry", inFlight.get());
        }
        for (Channel channel : channels) {
            channel.close().syncUninterruptibly();
        }
        channels.clear();
        if (eventLoops != null) {
            eventLoops.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (routePool != null) {
            getEndpoint().getCamelContext().getExecutorServiceManager().shutdown(routePool);
        }
        storeCheck.unregister(getEndpoint().getCamelContext());
        if (store != null) {
            store.close();
        }
        metrics.close();
        super.doStop();
    }

    /** Routes an accepted PUBLISH; answers it with the outcome when the exchange completes. */
    void dispatch(Peer peer, Message.Publish publish, String clientId, String topicName, long receivedAt) {
        Attempt attempt = null;
        if (publish.qos() == 1 && clientId != null) {
            Attempt first = new Attempt(peer.clientKey(), publish.msgId());
            if (awaitingAnswer.putIfAbsent(first, Boolean.TRUE) == null) {
                attempt = first;
            } else if (publish.dup()) {
                // the PUBACK the first one gets when RabbitMQ confirms it (after an alarm, say) answers this one too
                metrics.retryHeld();
                return;
            }
        }
        if (inFlight.incrementAndGet() > getEndpoint().getMaxInFlight()) {
            finished();
            answer(peer, publish, clientId, attempt, ReturnCode.CONGESTION, receivedAt);
            log.warn("congestion", "more than " + getEndpoint().getMaxInFlight() + " readings in flight", peer);
            return;
        }
        Exchange exchange = createExchange(false);
        org.apache.camel.Message in = exchange.getIn();
        in.setBody(publish.payload());
        if (clientId != null) {
            in.setHeader(MqttSnConstants.CLIENT_ID, clientId);
            if (publish.qos() >= 1) {
                in.setHeader(MqttSnConstants.READING_ID, clientId + ':' + publish.msgId());
            }
        }
        in.setHeader(MqttSnConstants.SOURCE, peer.source());
        in.setHeader(MqttSnConstants.TOPIC_NAME, topicName);
        in.setHeader(MqttSnConstants.TOPIC_ID_TYPE, TOPIC_ID_TYPES[publish.topicIdType()]);
        in.setHeader(MqttSnConstants.QOS, publish.qos());
        in.setHeader(MqttSnConstants.MESSAGE_ID, publish.msgId());
        in.setHeader(MqttSnConstants.RETAIN, publish.retain());
        in.setHeader(MqttSnConstants.DUP, publish.dup());
        in.setHeader(MqttSnConstants.RECEIVED_AT, System.currentTimeMillis());
        Attempt answered = attempt;
        if (routeExecutor == null) {
            route(exchange, peer, publish, clientId, answered, receivedAt);
            return;
        }
        try {
            routeExecutor.execute(peer.clientKey(), () -> route(exchange, peer, publish, clientId, answered, receivedAt));
        } catch (RejectedExecutionException e) {
            finished();
            releaseExchange(exchange, false);
            answer(peer, publish, clientId, attempt, ReturnCode.CONGESTION, receivedAt);
        }
    }

    private void route(Exchange exchange, Peer peer, Message.Publish publish, String clientId, Attempt attempt,
                       long receivedAt) {
        getAsyncProcessor().process(exchange, doneSync -> completed(exchange, peer, publish, clientId, attempt, receivedAt));
    }

    private void completed(Exchange exchange, Peer peer, Message.Publish publish, String clientId, Attempt attempt,
                           long receivedAt) {
        int returnCode;
        Exception failure = exchange.getException();
        if (failure != null) {
            returnCode = ReturnCode.CONGESTION;
            log.warn("route failed", failure.getClass().getSimpleName() + ": " + failure.getMessage()
                    + " (answered congestion; the client will retry)", peer);
        } else {
            Integer chosen = exchange.getMessage().getHeader(MqttSnConstants.RETURN_CODE, Integer.class);
            returnCode = chosen != null ? chosen & 3 : ReturnCode.ACCEPTED;
        }
        releaseExchange(exchange, false);
        answer(peer, publish, clientId, attempt, returnCode, receivedAt);
        finished();
    }

    /**
     * QoS 2: PUBREC once the store says the message was received, so that a resent PUBLISH is answered PUBREC by
     * whichever instance gets it; a refused one is forgotten and answered PUBACK with the reason.
     */
    private void answerOnce(Peer peer, Message.Publish publish, String clientId, int returnCode) {
        ClientSessions sessions = store.sessions();
        if (returnCode != ReturnCode.ACCEPTED) {
            sessions.qos2Forget(clientId, publish.msgId());
            peer.reply(Encoder.puback(publish.topicId(), publish.msgId(), returnCode));
            return;
        }
        sessions.qos2Received(clientId, publish.msgId()).whenComplete((ok, e) -> {
            if (e != null) {
                // the message is routed: the PUBREC still goes, a resent PUBLISH waits for the pending mark to expire
                log.warn("store unavailable", "QoS 2 PUBLISH " + publish.msgId() + " routed but not marked received: "
                        + e.getMessage(), peer);
            }
            peer.reply(Encoder.qosStep(MessageType.PUBREC, publish.msgId()));
        });
    }

    /** The session store, as the tests look into its near cache. */
    SessionStore store() {
        return store;
    }

    /** The downlink, or null when the endpoint has no downlink queue (SUBSCRIBE is then declined). */
    Downlink downlink() {
        return downlink;
    }

    /** Records a subscription; the filter's first subscriber binds the downlink queue to it before SUBACK. */
    CompletionStage<Void> subscribe(String clientId, String filter, int qos) {
        return store.subscriptions().subscribe(clientId, filter, qos).thenCompose(first -> {
            downlink.subscribed(filter, true);
            return first ? bindings.bind(filter) : CompletableFuture.completedFuture(null);
        });
    }

    /** Removes a subscription; the filter's last subscriber takes the binding with it. */
    CompletionStage<Void> unsubscribe(String clientId, String filter) {
        return store.subscriptions().unsubscribe(clientId, filter).thenCompose(last -> last ? unbind(filter)
                : CompletableFuture.completedFuture(null));
    }

    /** A clean session: every subscription of the client goes, and with the last subscriber of a filter its binding. */
    CompletionStage<Void> clearSubscriptions(String clientId) {
        if (downlink == null) {
            return CompletableFuture.completedFuture(null);
        }
        return store.subscriptions().clear(clientId).thenCompose(emptied -> CompletableFuture.allOf(
                emptied.stream().map(filter -> unbind(filter).toCompletableFuture()).toArray(CompletableFuture[]::new)));
    }

    /** Unbinds a filter left without subscribers, and binds it again should a subscriber have come meanwhile. */
    private CompletionStage<Void> unbind(String filter) {
        downlink.subscribed(filter, false);
        return bindings.unbind(filter)
                .thenCompose(x -> store.subscriptions().hasSubscribers(filter))
                .thenCompose(again -> {
                    if (!again) {
                        return CompletableFuture.completedFuture(null);
                    }
                    downlink.subscribed(filter, true);
                    return bindings.bind(filter);
                });
    }

    /** Every keepAliveCheckMillis: clients lost, downlink due again. */
    private void supervise() {
        if (getEndpoint().getMaxStoreKeys() > 0) {
            store.countKeys();
        }
        superviseKeepAlive();
        Downlink messages = downlink;
        if (messages != null) {
            messages.retryDue();
        }
    }

    /**
     * Looks for clients lost by any instance (keep-alive or sleep expired, protocol error) and publishes the will of
     * those this instance claimed through the route, as a PUBLISH of the client's would be. The claim ends when the
     * route completes; a will whose route failed is claimed again after the lease.
     */
    private void superviseKeepAlive() {
        store.sessions().claimLost().whenCompleteAsync((lost, e) -> {
            if (e != null) {
                log.warn("keep-alive check failed", e.getMessage(), "store");
                return;
            }
            for (ClientSessions.LostClient client : lost) {
                metrics.clientLost();
                if (client.willTopic() == null) {
                    settle(client);
                } else {
                    publishWill(client);
                }
            }
        }, channels.get(0).eventLoop());
    }

    private void publishWill(ClientSessions.LostClient client) {
        inFlight.incrementAndGet();
        Exchange exchange = createExchange(false);
        org.apache.camel.Message in = exchange.getIn();
        in.setBody(client.willPayload());
        in.setHeader(MqttSnConstants.CLIENT_ID, client.clientId());
        in.setHeader(MqttSnConstants.TOPIC_NAME, client.willTopic());
        in.setHeader(MqttSnConstants.TOPIC_ID_TYPE, "will");
        in.setHeader(MqttSnConstants.QOS, Flags.qos(client.willFlags()));
        in.setHeader(MqttSnConstants.RETAIN, Flags.retain(client.willFlags()));
        in.setHeader(MqttSnConstants.DUP, false);
        in.setHeader(MqttSnConstants.WILL, true);
        in.setHeader(MqttSnConstants.RECEIVED_AT, System.currentTimeMillis());
        Runnable route = () -> getAsyncProcessor().process(exchange, doneSync -> {
            Exception failure = exchange.getException();
            releaseExchange(exchange, false);
            finished();
            if (failure != null) {
                log.warn("will not published", client.clientId() + ": " + failure.getMessage()
                        + " (claimed again in 30 s)", "route");
            } else {
                metrics.willPublished();
                settle(client);
            }
        });
        if (routeExecutor == null) {
            route.run();
        } else {
            routeExecutor.execute(client.clientId(), route);
        }
    }

    private void settle(ClientSessions.LostClient client) {
        store.sessions().settle(client).whenComplete((settled, e) -> {
            if (e != null) {
                log.warn("store unavailable", "lost client " + client.clientId() + " not settled: " + e.getMessage(), "store");
            }
        });
    }

    /** ADVERTISE to the configured address, its duration being the interval to the next one. */
    private void advertise(InetSocketAddress to, int intervalSeconds) {
        Channel channel = channels.get(0);
        byte[] advertise = Encoder.advertise(getEndpoint().getGatewayId(), intervalSeconds);
        channel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(advertise), to)).addListener(sent -> {
            if (!sent.isSuccess()) {
                log.warn("ADVERTISE failed", sent.cause().toString(), to);
            }
        });
    }

    /** One reading less in flight; the last one wakes a stop that is draining. */
    private void finished() {
        if (inFlight.decrementAndGet() == 0 && !isRunAllowed()) {
            synchronized (inFlight) {
                inFlight.notifyAll();
            }
        }
    }

    private void answer(Peer peer, Message.Publish publish, String clientId, Attempt attempt, int returnCode,
                        long receivedAt) {
        if (attempt != null) {
            awaitingAnswer.remove(attempt);
        }
        metrics.published(returnCode, receivedAt);
        if (publish.qos() == 2 && clientId != null) {
            answerOnce(peer, publish, clientId, returnCode);
        } else {
            boolean wantsAck = publish.qos() == 1 || publish.qos() == 0 && getEndpoint().isAckQos0();
            if (returnCode != ReturnCode.ACCEPTED || wantsAck) {
                peer.reply(Encoder.puback(publish.topicId(), publish.msgId(), returnCode));
            }
        }
        if (returnCode == ReturnCode.ACCEPTED && clientId != null && getEndpoint().isExtendStoreTtlOnPublish()) {
            store.extendTtl(peer.clientKey(), peer::sharedKey, clientId);
        }
    }
}
