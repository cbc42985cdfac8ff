package org.iotgateway.live;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.Processor;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriParams;
import org.apache.camel.support.DefaultConsumer;
import org.apache.camel.support.service.ServiceSupport;
import org.iotgateway.GatewayMeters;
import org.iotgateway.RequestDeadline;
import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.mqtt.MqttConstants;
import org.iotgateway.mqtt.Subscription;
import org.iotgateway.mqtt.TopicFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine of the {@code live:} endpoint, and its consumer options: a WebSocket server (and the dashboard page),
 * hosted by the {@code from: live:} endpoint, that sends every MQTT message a {@code to: live:} endpoint hands it to
 * each connected browser whose filters match it, as the JSON of {@link FeedFrame}. The frame is encoded once per
 * message and shared by all clients; each client has a bounded backlog, so a slow one loses its own oldest frames and
 * is disconnected if it does not catch up, while the others receive everything.
 */
@UriParams
public class LiveFeed extends ServiceSupport implements Processor, CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);

    private CamelContext camelContext;
    private String host = "0.0.0.0";
    private int port = 8080;
    private String path = "/ws";
    @UriParam(label = "consumer", defaultValue = "2", description = "Threads serving WebSocket clients.")
    private int ioThreads = 2;
    @UriParam(label = "consumer", defaultValue = "1000",
              description = "Frames waiting for one slow client before its oldest are dropped.")
    private int clientQueueSize = 1000;
    @UriParam(label = "consumer", defaultValue = "10",
              description = "Seconds a client may keep dropping frames before it is disconnected.")
    private int slowClientTimeoutSeconds = 10;
    @UriParam(label = "consumer,advanced", defaultValue = "10000",
              description = "Messages waiting for the feed's threads before new ones are dropped for every client.")
    private int maxPendingMessages = 10000;
    @UriParam(label = "consumer", defaultValue = "10000",
              description = "Topics whose retained message is kept to replay to new clients.")
    private int retainedTopicsMax = 10000;
    @UriParam(label = "consumer", defaultValue = "67108864",
              description = "Bytes of retained messages kept to replay (64 MiB); past either limit new retained values"
                            + " are not replayed.")
    private long retainedBytesMax = 64L * 1024 * 1024;
    @UriParam(label = "consumer", defaultValue = "65536",
              description = "Largest browser request in bytes: a larger one is answered with an error; one over 16 times"
                            + " this (at least 1 MiB) ends the connection with close code 1009.")
    private int maxRequestBytes = 65536;
    @UriParam(label = "consumer,security", secret = true,
              description = "Token browsers must present (Authorization: Bearer, or ?access_token=); empty: no check.")
    private String bearerToken;
    @UriParam(label = "consumer,security",
              description = "Web origins whose pages may open the feed (the WebSocket handshake's Origin), comma-separated:"
                            + " https://dash.example.com,http://localhost:3000; * for any page. Empty: only the dashboard's"
                            + " own origin. Clients that send no Origin (not a browser page) are not affected.")
    private String allowedOrigins;
    @UriParam(label = "consumer,security", defaultValue = "10000",
              description = "Milliseconds a client has to send a whole HTTP request (the dashboard's files, the WebSocket"
                            + " handshake), from connecting or from the last answer; slower connections are closed.")
    private long httpReadTimeoutMillis = 10_000;
    @UriParam(label = "consumer", defaultValue = "true", description = "Serve the dashboard page at /.")
    private boolean dashboardEnabled = true;
    @UriParam(label = "consumer",
              description = "Topic filters browsers may publish to with {\"publish\":{...}}, comma-separated; each such"
                            + " message comes out of the from: endpoint. Empty: publishing from browsers is off.")
    private String clientPublishTopics;
    @UriParam(label = "consumer",
              description = "The MqttConnection the feed's messages come from: its resubscriptions tell which retained"
                            + " messages the broker no longer holds.")
    private MqttConnection connection;
    /** Where messages browsers publish go: the consumer of the from: endpoint that hosts this feed. */
    private DefaultConsumer browserPublishes;
    /** Seconds after the broker granted a resubscription until its retained replay counts as complete. */
    private static final int RESYNC_SETTLE_SECONDS = 3;
    private final AtomicLong resyncRounds = new AtomicLong();
    private final MqttConnection.SubscriptionWatcher resyncRetained = new MqttConnection.SubscriptionWatcher() {
        private volatile long round;

        @Override
        public void subscribing() {
            long started = resyncRounds.incrementAndGet();
            round = started;
            shardList.forEach(shard -> shard.loop.execute(() -> shard.startResync(started)));
        }

        @Override
        public void subscribed() {
            long ending = round;
            shardList.forEach(shard -> shard.loop.schedule(() -> shard.endResync(ending), RESYNC_SETTLE_SECONDS, TimeUnit.SECONDS));
        }
    };

    /** The broker's state changed: pages that watch the status are told, on their own loops. */
    private final MqttConnection.StateWatcher brokerWatcher =
            state -> this.shardList.forEach(shard -> shard.loop.execute(shard::sendStatus));

    private final Map<EventExecutor, FeedShard> shards = new IdentityHashMap<>();
    // read by the metrics scrape too
    private volatile List<FeedShard> shardList = List.of();
    private List<TopicFilter> publishAllowList = List.of();
    private EventLoopGroup acceptor;
    private EventLoopGroup workers;
    private Channel server;
    private ByteBufAllocator allocator;
    private Gauge clientsGauge;
    private Counter framesSent;
    private Counter framesDroppedSlow;
    private Counter framesDroppedOverloaded;
    private Counter messagesIn;
    private Counter slowDisconnects;
    private Counter connections;
    private Counter rejectedRequests;
    private Counter clientPublishes;

    @Override
    protected void doStart() throws Exception {
        publishAllowList = clientPublishTopics == null || clientPublishTopics.isBlank() ? List.of()
                : Subscription.parseList(clientPublishTopics, 0).stream().map(Subscription::filter).toList();
        registerMetrics();
        boolean epoll = Epoll.isAvailable();
        acceptor = epoll ? new EpollEventLoopGroup(1, new DefaultThreadFactory("live-accept", true))
                : new NioEventLoopGroup(1, new DefaultThreadFactory("live-accept", true));
        workers = epoll ? new EpollEventLoopGroup(ioThreads, new DefaultThreadFactory("live-io", true))
                : new NioEventLoopGroup(ioThreads, new DefaultThreadFactory("live-io", true));
        List<FeedShard> created = new ArrayList<>();
        for (EventExecutor loop : workers) {
            FeedShard shard = new FeedShard((EventLoop) loop, this);
            shards.put(loop, shard);
            created.add(shard);
        }
        shardList = List.copyOf(created);
        Map<String, HttpGate.Asset> dashboard = dashboardEnabled ? HttpGate.dashboard(path) : Map.of();
        AllowedOrigins origins = AllowedOrigins.parse(allowedOrigins);
        // a request over maxRequestBytes is read and answered as a bad request, and so is one sent in fragments past the
        // frame limit (the rest is dropped unread); a single frame over that limit, which bounds what a connection can
        // make the gateway hold, cannot be skipped and ends the connection with its reason (ClientHandler)
        WebSocketServerProtocolConfig websocket = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(path).checkStartsWith(true)
                .decoderConfig(WebSocketDecoderConfig.newBuilder().maxFramePayloadLength(maxFrameBytes())
                        .closeOnProtocolViolation(false).build())
                .handleCloseFrames(true).dropPongFrames(true).build();
        ServerBootstrap bootstrap = new ServerBootstrap().group(acceptor, workers)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new RequestDeadline(httpReadTimeoutMillis))
                                .addLast(new HttpObjectAggregator(maxRequestBytes))
                                .addLast(new HttpGate(path, bearerToken, origins, dashboard))
                                .addLast(new WebSocketServerProtocolHandler(websocket))
                                // a request a browser sends in fragments is handled whole
                                .addLast(new WebSocketFrameAggregator(maxFrameBytes()))
                                .addLast(new ClientHandler(LiveFeed.this));
                    }
                });
        try {
            server = bootstrap.bind(new InetSocketAddress(host, port)).sync().channel();
        } catch (Exception e) {
            // the route controller retries the route, and readiness names it and the reason (RouteStarts)
            stopEventLoops();
            throw new IllegalStateException("Live feed cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        allocator = server.alloc();
        if (connection != null) {
            connection.watchSubscriptions(resyncRetained);
            connection.watchState(brokerWatcher);
        }
        boolean open = bearerToken == null || bearerToken.isBlank();
        LOG.info("Live feed on http://{}:{}/ (dashboard{}) and ws://{}:{}{}; bearer token {}; pages allowed: {}; publishing from browsers {}",
                host, port, dashboardEnabled ? "" : " off", host, port, path, open ? "not required" : "required",
                origins.isAny() ? "any" : allowedOrigins == null || allowedOrigins.isBlank() ? "the dashboard's own origin"
                        : "the dashboard's own origin and " + allowedOrigins,
                publishAllowList.isEmpty() ? "off" : "allowed to " + publishAllowList);
        if (open && !((InetSocketAddress) server.localAddress()).getAddress().isLoopbackAddress()) {
            LOG.warn("The live feed needs no token and listens beyond this machine: anyone who reaches {}:{} reads every"
                     + " message it carries (set live.bearer-token, or live.host=127.0.0.1)", host, port);
        }
    }

    private void registerMetrics() {
        MeterRegistry registry = GatewayMeters.registry(camelContext);
        String portTag = String.valueOf(port);
        clientsGauge = Gauge.builder("live.clients", this, feed -> feed.shardList.stream().mapToInt(FeedShard::clientCount).sum())
                .tag("port", portTag)
                .description("WebSocket clients connected to the live feed").register(registry);
        connections = Counter.builder("live.connections").tag("port", portTag)
                .description("WebSocket connections accepted").register(registry);
        messagesIn = Counter.builder("live.messages.received").tag("port", portTag)
                .description("MQTT messages that reached the live feed").register(registry);
        framesSent = Counter.builder("live.frames.sent").tag("port", portTag)
                .description("Message frames written to clients").register(registry);
        framesDroppedSlow = Counter.builder("live.frames.dropped").tag("port", portTag).tag("reason", "client_backlog_full")
                .description("Frames dropped because a client's backlog was full").register(registry);
        framesDroppedOverloaded = Counter.builder("live.frames.dropped").tag("port", portTag).tag("reason", "gateway_overloaded")
                .description("Frames not sent because the feed's threads were too far behind").register(registry);
        slowDisconnects = Counter.builder("live.clients.disconnected").tag("port", portTag).tag("reason", "too_slow")
                .description("Clients disconnected for staying overloaded").register(registry);
        rejectedRequests = Counter.builder("live.requests.rejected").tag("port", portTag)
                .description("Browser requests answered with an error").register(registry);
        clientPublishes = Counter.builder("live.client.publishes").tag("port", portTag)
                .description("Messages browsers published to MQTT").register(registry);
    }

    @Override
    protected void doStop() {
        // the gauge reads this feed: one that replaces it (route file edited) registers its own
        GatewayMeters.registry(camelContext).remove(clientsGauge);
        if (connection != null) {
            connection.unwatchSubscriptions(resyncRetained);
            connection.unwatchState(brokerWatcher);
        }
        if (server != null) {
            server.close().syncUninterruptibly();
            server = null;
        }
        for (FeedShard shard : shardList) {
            shard.loop.execute(shard::releaseRetained);
        }
        stopEventLoops();
        shards.clear();
        shardList = List.of();
    }

    private void stopEventLoops() {
        if (acceptor != null) {
            acceptor.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
        if (workers != null) {
            workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** Sends the exchange's MQTT message (body bytes, {@code CamelMqtt*} headers) to every client that wants it. */
    @Override
    public void process(Exchange exchange) {
        Message message = exchange.getMessage();
        String topic = message.getHeader(MqttConstants.TOPIC, String.class);
        if (topic == null) {
            throw new IllegalArgumentException("the live feed needs the " + MqttConstants.TOPIC + " header");
        }
        byte[] payload = message.getBody(byte[].class);
        if (payload == null) {
            payload = new byte[0];
        }
        int qos = message.getHeader(MqttConstants.QOS, 0, Integer.class);
        boolean retained = message.getHeader(MqttConstants.RETAINED, false, Boolean.class);
        Long receivedAt = message.getHeader(MqttConstants.RECEIVED_AT, Long.class);
        messagesIn.increment();
        ByteBuf frame = WebSocketFrames.text(allocator,
                FeedFrame.encode(topic, payload, qos, retained, receivedAt != null ? receivedAt : System.currentTimeMillis()));
        try {
            // an empty retained message clears the topic's retained value (MQTT 5.0 §3.3.1.3)
            boolean clearsRetained = retained && payload.length == 0;
            for (FeedShard shard : shardList) {
                shard.submit(topic, frame, retained, clearsRetained);
            }
        } finally {
            frame.release();
        }
    }

    void publishFromClient(ClientRequest.Publish request, Consumer<String> reply) {
        if (publishAllowList.isEmpty() || browserPublishes == null) {
            rejectedRequests.increment();
            reply.accept(ClientRequest.reply(request.id(), "error",
                    "publishing from browsers is off (live.client-publish-topics is empty)"));
            return;
        }
        if (publishAllowList.stream().noneMatch(filter -> filter.matches(request.topic()))) {
            rejectedRequests.increment();
            reply.accept(ClientRequest.reply(request.id(), "error",
                    "publishing to '" + request.topic() + "' is not allowed (live.client-publish-topics)"));
            return;
        }
        Exchange exchange = browserPublishes.createExchange(false);
        exchange.getMessage().setBody(request.payload());
        exchange.getMessage().setHeader(MqttConstants.TOPIC, request.topic());
        exchange.getMessage().setHeader(MqttConstants.QOS, request.qos());
        exchange.getMessage().setHeader(MqttConstants.RETAINED, request.retain());
        browserPublishes.getAsyncProcessor().process(exchange, doneSync -> {
            if (exchange.getException() != null) {
                rejectedRequests.increment();
                reply.accept(ClientRequest.reply(request.id(), "error",
                        "publishing to '" + request.topic() + "' failed: " + exchange.getException().getMessage()));
            } else {
                clientPublishes.increment();
                reply.accept(ClientRequest.reply(request.id(), "published", request.topic()));
            }
            browserPublishes.releaseExchange(exchange, false);
        });
    }

    /**
     * The status a page shows: {@code {"status":{"broker":{"state":"up"|"down","since":…,"reason":…},"filters":[…],
     * "publishTopics":[…],"dropped":n,"backlogLimit":n,"maxRequestBytes":n}}}; {@code broker} is null when the feed has no connection to
     * watch, {@code publishTopics} empty when browsers may not publish, {@code dropped} counts the frames this client
     * lost because it did not keep up.
     */
    String status(FeedClient client, JsonNode id) {
        ObjectNode status = ClientRequest.MAPPER.createObjectNode();
        if (connection == null) {
            status.putNull("broker");
        } else {
            MqttConnection.State state = connection.state();
            ObjectNode broker = status.putObject("broker");
            broker.put("state", state.ready() ? "up" : "down");
            broker.put("since", FeedFrame.timestamp(state.sinceMillis()));
            broker.put("reason", state.problem());
        }
        ArrayNode filters = status.putArray("filters");
        client.filters().forEach(filter -> filters.add(filter.toString()));
        ArrayNode publishTopics = status.putArray("publishTopics");
        publishAllowList.forEach(filter -> publishTopics.add(filter.toString()));
        status.put("dropped", client.dropped);
        status.put("backlogLimit", clientQueueSize);
        status.put("maxRequestBytes", maxRequestBytes);
        return ClientRequest.reply(id, "status", status);
    }

    /** The consumer that messages browsers publish go to. */
    void setBrowserPublishes(DefaultConsumer browserPublishes) {
        this.browserPublishes = browserPublishes;
    }

    FeedShard shardOf(EventLoop loop) {
        return shards.get(loop);
    }

    void connected() {
        connections.increment();
    }

    void disconnectedTooSlow() {
        slowDisconnects.increment();
    }

    /** The largest frame, or message in fragments, read at all: 16 times the request limit, at least 1 MiB. */
    int maxFrameBytes() {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1 << 20, 16L * maxRequestBytes));
    }

    void rejectedRequest() {
        rejectedRequests.increment();
    }

    void overloaded(int clientsSkipped) {
        framesDroppedOverloaded.increment(clientsSkipped);
    }

    void count(long sent, long dropped) {
        if (sent > 0) {
            framesSent.increment(sent);
        }
        if (dropped > 0) {
            framesDroppedSlow.increment(dropped);
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

    /** The connection the feed's messages come through: its resubscriptions tell which retained messages are stale. */
    public MqttConnection getConnection() {
        return connection;
    }

    public void setConnection(MqttConnection connection) {
        this.connection = connection;
    }

    /** The address the feed listens on: the path of its {@code live:} endpoint. */
    void listenOn(String host, int port, String path) {
        this.host = host;
        this.port = port;
        this.path = path;
    }

    public int getIoThreads() {
        return ioThreads;
    }

    public void setIoThreads(int ioThreads) {
        this.ioThreads = ioThreads;
    }

    public int getClientQueueSize() {
        return clientQueueSize;
    }

    public void setClientQueueSize(int clientQueueSize) {
        this.clientQueueSize = clientQueueSize;
    }

    public int getSlowClientTimeoutSeconds() {
        return slowClientTimeoutSeconds;
    }

    public void setSlowClientTimeoutSeconds(int slowClientTimeoutSeconds) {
        this.slowClientTimeoutSeconds = slowClientTimeoutSeconds;
    }

    public int getMaxPendingMessages() {
        return maxPendingMessages;
    }

    public void setMaxPendingMessages(int maxPendingMessages) {
        this.maxPendingMessages = maxPendingMessages;
    }

    public int getRetainedTopicsMax() {
        return retainedTopicsMax;
    }

    public void setRetainedTopicsMax(int retainedTopicsMax) {
        this.retainedTopicsMax = retainedTopicsMax;
    }

    public long getRetainedBytesMax() {
        return retainedBytesMax;
    }

    /** Bytes of retained frames each I/O thread keeps (they share the buffers, so this bounds the whole feed too). */
    public void setRetainedBytesMax(long retainedBytesMax) {
        this.retainedBytesMax = retainedBytesMax;
    }

    public int getMaxRequestBytes() {
        return maxRequestBytes;
    }

    public void setMaxRequestBytes(int maxRequestBytes) {
        this.maxRequestBytes = maxRequestBytes;
    }

    public long getHttpReadTimeoutMillis() {
        return httpReadTimeoutMillis;
    }

    public void setHttpReadTimeoutMillis(long httpReadTimeoutMillis) {
        this.httpReadTimeoutMillis = httpReadTimeoutMillis;
    }

    public String getAllowedOrigins() {
        return allowedOrigins;
    }

    public void setAllowedOrigins(String allowedOrigins) {
        this.allowedOrigins = allowedOrigins;
    }

    public String getBearerToken() {
        return bearerToken;
    }

    public void setBearerToken(String bearerToken) {
        this.bearerToken = bearerToken;
    }

    public boolean isDashboardEnabled() {
        return dashboardEnabled;
    }

    public void setDashboardEnabled(boolean dashboardEnabled) {
        this.dashboardEnabled = dashboardEnabled;
    }

    public String getClientPublishTopics() {
        return clientPublishTopics;
    }

    public void setClientPublishTopics(String clientPublishTopics) {
        this.clientPublishTopics = clientPublishTopics;
    }

}
