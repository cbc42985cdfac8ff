package org.iotgateway.rabbitmq;

import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.Date;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.LongString;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.internal.ThreadExecutorMap;
import org.apache.camel.AsyncCallback;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.Exchange;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.support.AsyncProcessorSupport;
import org.iotgateway.GatewayMeters;
import org.iotgateway.ReadinessCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine of the {@code rabbitmq-confirmed:} endpoint: publishes the exchange body to a RabbitMQ exchange and
 * completes the exchange only when the broker has confirmed the message (publisher confirms, asynchronous and
 * correlated per message), so a route that ends here acknowledges its source exactly when RabbitMQ holds the message. A nack, a lost connection or a blocked broker fail the exchange;
 * a connection that confirms nothing for the confirm timeout is reopened, failing what it carried (see
 * {@link #reconnectIfStuck()} for why a message is never failed alone while RabbitMQ may still take it).
 * <p>
 * Headers: {@value RabbitMqConfirmedConstants#ROUTING_KEY} is the routing key,
 * {@value RabbitMqConfirmedConstants#MESSAGE_ID} (optional) the message id that consumers
 * de-duplicate on; every header whose name does not start with "Camel" becomes an
 * AMQP header. Messages carry the Python gateway's properties: content type {@code application/data}, encoding
 * {@code binary}, persistent, priority 0.
 * <p>
 * One connection serves the whole process, with one channel ("lane") by default: RabbitMQ confirms a busy channel in
 * larger batches, which measured cheaper for the broker than spreading the same load over four. Messages are sent in
 * batches, one socket write each (see {@link BatchingConnectionFactory}), so that under load neither the gateway nor
 * RabbitMQ pays a system call per message:
 * <ul>
 * <li>A route running on a Netty event loop (the MQTT-SN socket's thread, with {@code routeThreads=0})
 * publishes its message itself and leaves the write to a task on that loop, which runs once the loop has handled
 * everything it read: one write per read cycle, and no other thread to wake. It does so only while the writer has
 * nothing waiting (so that messages keep their order) and while the bytes RabbitMQ has not confirmed are a small part
 * of the socket's send buffer, so that the write cannot block the event loop.</li>
 * <li>Otherwise the message waits for the writer, a thread that publishes everything waiting and sends it with one
 * write. When RabbitMQ is slow to read, only the writer waits.</li>
 * </ul>
 * When the connection drops it is opened again in the background, and publishing fails fast meanwhile.
 * <p>
 * Confirms are matched to messages by the channel's publish sequence number, which counts every {@code basicPublish}
 * call, while RabbitMQ counts the messages it received: a call that throws after taking its number (a routing key the
 * AMQP client cannot encode, for one) would shift every later confirm onto the wrong message. So a message that cannot
 * be encoded is refused before it reaches the channel, and should a publish throw all the same, the connection is
 * closed and opened again: its unconfirmed messages fail (congestion, the device retries) rather than be matched to
 * the wrong confirms.
 */
public class ConfirmingAmqpPublisher extends AsyncProcessorSupport implements CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(ConfirmingAmqpPublisher.class);
    private static final String CONTENT_TYPE = "application/data";
    private static final String CONTENT_ENCODING = "binary";
    /** What a message adds to the socket besides its body: frame headers, routing key, properties (an estimate). */
    private static final int FRAME_OVERHEAD = 256;
    /** The probe's routing key on the default exchange: a queue of that name is not expected, so it goes nowhere. */
    private static final String ALARM_PROBE_KEY = "iot-gateway.alarm-probe";
    /** The longest AMQP short string (routing key, header name), in bytes. */
    static final int MAX_SHORT_STRING = 255;
    /** The most unconfirmed bytes an event loop publishes behind, whatever the send buffer. */
    private static final int MAX_EVENT_LOOP_BACKLOG = 64 * 1024;

    private CamelContext camelContext;
    private AmqpUrl url;
    private String connectionString = "amqp://guest:guest@localhost:5672//";
    private String exchangeName = "mqtt-sn";
    private int lanes = 1;
    private long confirmTimeoutMillis = 10_000;
    private long alarmProbeMillis = 1_000;
    private long reconnectDelayMillis = 2_000;

    private final Queue<Outgoing> outgoing = new ConcurrentLinkedQueue<>();
    /** Held while publishing: sequence numbers and frames of the writer and of event loops must not interleave. */
    private final ReentrantLock publishing = new ReentrantLock();
    private int nextLane;
    /**
     * Bytes published that RabbitMQ has not confirmed: as RabbitMQ has read every message it confirms, they bound what
     * can be waiting in the socket's send buffer.
     */
    private final AtomicLong unconfirmedBytes = new AtomicLong();
    private ScheduledExecutorService scheduler;
    private final BrokerHealthCheck health = new BrokerHealthCheck();
    private Thread writer;
    private volatile boolean writerParked;
    private volatile boolean flushRequested;
    private volatile Link link;
    private Timer confirmLatency;
    private volatile String blockedReason;
    /** When RabbitMQ last confirmed something, unblocked publishing, or was connected to (System.nanoTime). */
    private volatile long lastProgress;
    private volatile String lastError = "not connected yet";

    /**
     * An open connection: the socket that is flushed, the channels published on, and whether a write is scheduled on
     * an event loop.
     */
    private record Link(Connection connection, BatchingConnectionFactory.BatchingSocket socket, Lane[] lanes,
                        Channel alarmProbe, AtomicBoolean flushScheduled) {

        Link(Connection connection, BatchingConnectionFactory.BatchingSocket socket, Lane[] lanes, Channel alarmProbe) {
            this(connection, socket, lanes, alarmProbe, new AtomicBoolean());
        }

        /** The most unconfirmed bytes an event loop may publish behind. */
        long eventLoopBacklog() {
            // an eighth of the buffer or less: the kernel charges each write's bookkeeping to the buffer too, and for a
            // small write that is several times its size
            return Math.min(MAX_EVENT_LOOP_BACKLOG, socket.sendBufferSize() / 8);
        }

        void flush() {
            try {
                socket.flushBatch();
            } catch (IOException | RuntimeException e) {
                // the connection's shutdown listener fails what this batch carried
                LOG.debug("Flushing to RabbitMQ: {}", e.getMessage());
            }
        }
    }

    /** A channel in confirm mode and the messages it has published that the broker has not confirmed yet. */
    private static final class Lane {
        final Channel channel;
        final ConcurrentNavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();

        Lane(Channel channel) {
            this.channel = channel;
        }
    }

    private record Pending(Exchange exchange, AsyncCallback callback, long publishedAt, int bytes) {
    }

    /** A message a route handed over, waiting for the writer. */
    private record Outgoing(Exchange exchange, AsyncCallback callback, String routingKey, AMQP.BasicProperties properties,
                            byte[] body) {

        /** What the message takes in the socket's buffers, as {@link #unconfirmedBytes} counts it. */
        int bytes() {
            return body.length + FRAME_OVERHEAD;
        }
    }

    /** Why a message could not be handed to RabbitMQ. */
    public static final class PublishException extends Exception {
        PublishException(String message) {
            super(message, null, false, false);
        }
    }

    @Override
    protected void doStart() {
        lastError = "not connected yet";
        url = AmqpUrl.parse(connectionString);
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "amqp-publisher");
            thread.setDaemon(true);
            return thread;
        });
        writer = new Thread(this::writeLoop, "amqp-publisher-writer");
        writer.setDaemon(true);
        writer.start();
        scheduler.execute(this::connect);
        scheduler.scheduleWithFixedDelay(this::reconnectIfStuck, 1, 1, TimeUnit.SECONDS);
        if (alarmProbeMillis > 0) {
            scheduler.scheduleWithFixedDelay(this::probeForAlarm, alarmProbeMillis, alarmProbeMillis, TimeUnit.MILLISECONDS);
        }
        health.register(camelContext);
        confirmLatency = Timer.builder("amqp.publisher.confirm.latency").tag("exchange", exchangeName)
                .description("From handing a message to RabbitMQ to its confirm")
                .publishPercentileHistogram().register(GatewayMeters.registry(camelContext));
    }

    @Override
    protected void doStop() {
        // a replaced route file brings a new publisher: its check takes this one's place
        health.unregister(camelContext);
        lastError = "the publisher is stopped";
        if (scheduler != null) {
            scheduler.shutdownNow();
        }
        if (writer != null) {
            LockSupport.unpark(writer);
            try {
                writer.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Link current = link;
        link = null;
        if (current != null) {
            try {
                current.connection().close(2000);
            } catch (Exception e) {
                LOG.debug("Closing the AMQP connection: {}", e.getMessage());
            }
            failAll(current, "publisher stopped");
        }
        failQueued("publisher stopped");
    }

    private void connect() {
        try {
            BatchingConnectionFactory factory =
                    url.configure(new BatchingConnectionFactory(publishing::isHeldByCurrentThread));
            factory.setAutomaticRecoveryEnabled(false);
            factory.setRequestedHeartbeat(30);
            Connection opened = url.connect(factory, "iot-gateway meter ingest");
            Lane[] channels = new Lane[lanes];
            for (int i = 0; i < lanes; i++) {
                Channel channel = opened.createChannel();
                if (i == 0) {
                    channel.exchangeDeclare(exchangeName, "topic", true);
                }
                channel.confirmSelect();
                Lane lane = new Lane(channel);
                channel.addConfirmListener((seq, multiple) -> settle(lane, seq, multiple, null),
                        (seq, multiple) -> settle(lane, seq, multiple, "RabbitMQ rejected the message (nack)"));
                channels[i] = lane;
            }
            opened.addBlockedListener(reason -> {
                blockedReason = reason;
                LOG.warn("RabbitMQ blocks publishing ({}): readings are answered with congestion until it unblocks", reason);
            }, () -> {
                lastProgress = System.nanoTime();
                blockedReason = null;
                LOG.info("RabbitMQ unblocked publishing");
            });
            Link opening = new Link(opened, factory.lastOpened(), channels, opened.createChannel());
            opened.addShutdownListener(cause -> {
                if (!cause.isInitiatedByApplication()) {
                    onConnectionLost(opening, "connection lost: " + cause.getMessage());
                }
            });
            lastProgress = System.nanoTime();
            link = opening;
            lastError = null;
            LOG.info("Publishing to RabbitMQ exchange '{}' at {} with publisher confirms", exchangeName, url);
        } catch (IOException | TimeoutException | NoSuchAlgorithmException | RuntimeException e) {
            lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
            LOG.warn("Cannot connect to RabbitMQ at {} ({}); retrying in {} ms", url, lastError, reconnectDelayMillis);
            scheduleReconnect();
        }
    }

    private void onConnectionLost(Link lost, String reason) {
        link = null;
        lastError = reason;
        LOG.warn("RabbitMQ {}; readings in flight are answered with congestion", reason);
        failAll(lost, "RabbitMQ connection lost before the confirm");
        scheduleReconnect();
    }

    /**
     * A publish threw after the channel may have taken a sequence number for it: RabbitMQ's confirms can no longer be
     * matched to the messages, so the connection goes and a new one is opened.
     */
    private void desynchronised(Link current, Exception cause) {
        if (link != current) {
            return;
        }
        LOG.error("Publishing to RabbitMQ failed ({}: {}); reconnecting so that confirms stay matched to their messages",
                cause.getClass().getSimpleName(), cause.getMessage());
        reopen(current, "publish failed, reconnecting: " + cause.getMessage());
    }

    /** Drops a connection that is still open, failing what it carried, and opens another. */
    private void reopen(Link current, String reason) {
        onConnectionLost(current, reason);
        // closing writes to the socket: on the publisher's own thread, never an event loop's
        scheduler.execute(() -> current.connection().abort(1000));
    }

    private void scheduleReconnect() {
        if (isRunAllowed() && !scheduler.isShutdown()) {
            scheduler.schedule(this::connect, reconnectDelayMillis, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        if (link == null) {
            return fail(exchange, callback, "RabbitMQ is not connected (" + lastError + ")");
        }
        String blocked = blockedReason;
        if (blocked != null) {
            return fail(exchange, callback, "RabbitMQ blocked publishing: " + blocked);
        }
        String routingKey = exchange.getMessage().getHeader(RabbitMqConfirmedConstants.ROUTING_KEY, String.class);
        if (routingKey == null) {
            return fail(exchange, callback, "no " + RabbitMqConfirmedConstants.ROUTING_KEY + " header");
        }
        if (!fitsShortString(routingKey)) {
            return fail(exchange, callback, "the routing key is longer than AMQP's " + MAX_SHORT_STRING + " bytes");
        }
        AMQP.BasicProperties properties;
        try {
            properties = properties(exchange.getMessage().getHeaders(),
                    exchange.getMessage().getHeader(RabbitMqConfirmedConstants.MESSAGE_ID, String.class));
        } catch (IllegalArgumentException e) {
            return fail(exchange, callback, e.getMessage());
        }
        byte[] body = exchange.getMessage().getBody(byte[].class);
        Outgoing message = new Outgoing(exchange, callback, routingKey, properties, body);
        if (publishedOnEventLoop(message)) {
            return false;
        }
        outgoing.offer(message);
        if (link == null) {
            // lost or stopped since the check above: the writer or the stop may have swept the queue already
            failQueued("RabbitMQ connection lost before publishing");
        } else if (writerParked) {
            LockSupport.unpark(writer);
        }
        return false;
    }

    /**
     * Publishes the message on the calling thread if it is a Netty event loop and nothing stands in the way (see the
     * class comment); the write follows in a task on that loop, shared by everything it publishes meanwhile.
     */
    private boolean publishedOnEventLoop(Outgoing message) {
        // Netty's own record of the loop that runs this thread (an internal package): the publisher needs no reference
        // to the component that called it
        EventExecutor eventLoop = ThreadExecutorMap.currentExecutor();
        Link current = link;
        if (eventLoop == null || current == null || !outgoing.isEmpty()
                || unconfirmedBytes.get() + message.bytes() > current.eventLoopBacklog()
                || !publishing.tryLock()) {
            return false;
        }
        try {
            // the writer may have been handed a message since the check, and must publish it first; or the link may
            // have been dropped meanwhile, its messages already failed
            if (!outgoing.isEmpty() || link != current) {
                return false;
            }
            publish(current, message);
        } finally {
            publishing.unlock();
        }
        if (current.flushScheduled().compareAndSet(false, true)) {
            eventLoop.execute(() -> flushFromEventLoop(current));
        }
        return true;
    }

    /**
     * Writes what event loops have published, unless the write could block: when RabbitMQ has fallen behind since, or
     * the writer holds the socket (it writes everything buffered before it lets go), the writer is asked to write.
     */
    private void flushFromEventLoop(Link current) {
        // cleared first: whatever is published after this line schedules a write of its own
        current.flushScheduled().set(false);
        if (unconfirmedBytes.get() <= current.eventLoopBacklog() && publishing.tryLock()) {
            try {
                current.flush();
            } finally {
                publishing.unlock();
            }
        } else {
            flushRequested = true;
            LockSupport.unpark(writer);
        }
    }

    /**
     * The writer: publishes everything waiting, then sends it and whatever event loops left buffered with one flush,
     * then sleeps until a route hands over more. Under load the queue is never empty for long and batches grow by
     * themselves; a lone message is sent at once. It holds {@link #publishing} throughout, so that no event loop
     * waits on a write that RabbitMQ is slow to take.
     */
    private void writeLoop() {
        while (isRunAllowed()) {
            if (outgoing.isEmpty() && !flushRequested) {
                writerParked = true;
                if (outgoing.isEmpty() && !flushRequested && isRunAllowed()) {
                    LockSupport.park(this);
                }
                writerParked = false;
                continue;
            }
            flushRequested = false;
            publishing.lock();
            try {
                for (Outgoing next = outgoing.poll(); next != null; next = outgoing.poll()) {
                    Link current = link;
                    if (current == null) {
                        complete(next.exchange(), next.callback(), "RabbitMQ connection lost before publishing");
                    } else {
                        publish(current, next);
                    }
                }
                Link current = link;
                if (current != null) {
                    current.flush();
                }
            } finally {
                publishing.unlock();
            }
        }
    }

    /** Publishes on the next lane; the caller holds {@link #publishing}. */
    private void publish(Link current, Outgoing message) {
        nextLane = (nextLane + 1) % current.lanes().length;
        Lane lane = current.lanes()[nextLane];
        int bytes = message.bytes();
        long seq = lane.channel.getNextPublishSeqNo();
        lane.pending.put(seq, new Pending(message.exchange(), message.callback(), System.nanoTime(), bytes));
        unconfirmedBytes.addAndGet(bytes);
        try {
            lane.channel.basicPublish(exchangeName, message.routingKey(), false, message.properties(), message.body());
        } catch (IOException | RuntimeException e) {
            complete(lane.pending.remove(seq), "publish failed: " + e.getMessage());
            desynchronised(current, e);
        }
    }

    /** Whether the text fits an AMQP short string; a char takes at most three bytes in UTF-8. */
    static boolean fitsShortString(String text) {
        return text.length() <= MAX_SHORT_STRING / 3
                || text.length() <= MAX_SHORT_STRING && text.getBytes(StandardCharsets.UTF_8).length <= MAX_SHORT_STRING;
    }

    /**
     * The message's properties, with the route's headers that do not start with "Camel".
     *
     * @throws IllegalArgumentException for a header the AMQP client cannot encode, which would fail the publish
     */
    static AMQP.BasicProperties properties(Map<String, Object> camelHeaders, String messageId) {
        if (messageId != null && !fitsShortString(messageId)) {
            throw new IllegalArgumentException("the message id is longer than AMQP's " + MAX_SHORT_STRING + " bytes");
        }
        Map<String, Object> headers = null;
        for (Map.Entry<String, Object> header : camelHeaders.entrySet()) {
            String name = header.getKey();
            Object value = header.getValue();
            if (value != null && !name.regionMatches(true, 0, "Camel", 0, 5)) {
                if (!fitsShortString(name)) {
                    throw new IllegalArgumentException("the header name '" + name.substring(0, 40)
                            + "…' is longer than AMQP's " + MAX_SHORT_STRING + " bytes");
                }
                if (!isFieldValue(value)) {
                    throw new IllegalArgumentException("the header '" + name + "' is a " + value.getClass().getName()
                            + ", which an AMQP header cannot carry (convert it to a string or a number in the route)");
                }
                if (headers == null) {
                    headers = new HashMap<>();
                }
                headers.put(name, value);
            }
        }
        return new AMQP.BasicProperties.Builder()
                .contentType(CONTENT_TYPE)
                .contentEncoding(CONTENT_ENCODING)
                .deliveryMode(2)
                .priority(0)
                .messageId(messageId)
                .headers(headers)
                .build();
    }

    /** The header values the AMQP client can encode (its ValueWriter), but tables and arrays, which routes do not set. */
    private static boolean isFieldValue(Object value) {
        return value instanceof String || value instanceof Integer || value instanceof Long || value instanceof Boolean
                || value instanceof Double || value instanceof Float || value instanceof Short || value instanceof Byte
                || value instanceof BigDecimal || value instanceof Date || value instanceof byte[]
                || value instanceof LongString;
    }

    private void settle(Lane lane, long seq, boolean multiple, String failure) {
        long now = System.nanoTime();
        lastProgress = now;
        if (multiple) {
            ConcurrentNavigableMap<Long, Pending> settled = lane.pending.headMap(seq, true);
            for (Long each : settled.keySet()) {
                confirmed(lane.pending.remove(each), failure, now);
            }
        } else {
            confirmed(lane.pending.remove(seq), failure, now);
        }
    }

    private void confirmed(Pending pending, String failure, long now) {
        if (pending != null) {
            confirmLatency.record(now - pending.publishedAt(), TimeUnit.NANOSECONDS);
            complete(pending, failure);
        }
    }

    private void complete(Pending pending, String failure) {
        if (pending != null) {
            unconfirmedBytes.addAndGet(-pending.bytes());
            complete(pending.exchange(), pending.callback(), failure);
        }
    }

    private static void complete(Exchange exchange, AsyncCallback callback, String failure) {
        if (failure != null) {
            exchange.setException(new PublishException(failure));
        }
        try {
            callback.done(false);
        } catch (RuntimeException e) {
            // the confirm of a batch settles every message in it: one failing answer must not strand the others
            LOG.error("Answering a published message failed", e);
        }
    }

    /**
     * RabbitMQ sends connection.blocked under a memory or disk alarm only once the connection publishes: a quiet
     * gateway would stay ready, and its next readings would wait out the alarm unanswered. An empty message every
     * {@code alarmProbeMillis}, on a channel without confirms to a routing key no queue has, makes the notification
     * come that soon after the alarm whatever the traffic.
     */
    private void probeForAlarm() {
        Link current = link;
        if (current == null || blockedReason != null) {
            return;
        }
        try {
            current.alarmProbe().basicPublish("", ALARM_PROBE_KEY, null, new byte[0]);
        } catch (IOException | RuntimeException e) {
            LOG.debug("Alarm probe: {}", e.getMessage());
        }
    }

    /**
     * A connection that has confirmed nothing for the confirm timeout while messages wait for it is taken for dead (a
     * broker that stopped reading, a network gone without a reset): it is closed and opened again, and its messages are
     * answered with congestion. Messages are never failed one by one on a live connection, since RabbitMQ could still
     * take them after their device was told congestion; and while RabbitMQ blocks publishing (an alarm) the clock
     * stands: those messages are answered when RabbitMQ confirms them after the alarm.
     */
    private void reconnectIfStuck() {
        Link current = link;
        if (current == null || blockedReason != null) {
            return;
        }
        long limit = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(confirmTimeoutMillis);
        if (lastProgress - limit > 0) {
            return;
        }
        for (Lane lane : current.lanes()) {
            Map.Entry<Long, Pending> oldest = lane.pending.firstEntry();
            if (oldest != null && oldest.getValue().publishedAt() - limit < 0) {
                LOG.error("No confirm from RabbitMQ within {} ms with {} messages waiting; reconnecting", confirmTimeoutMillis,
                        lane.pending.size());
                reopen(current, "no confirm within " + confirmTimeoutMillis + " ms, reconnecting");
                return;
            }
        }
    }

    private void failAll(Link lost, String reason) {
        for (Lane lane : lost.lanes()) {
            for (Long seq : lane.pending.keySet()) {
                complete(lane.pending.remove(seq), reason);
            }
        }
    }

    private void failQueued(String reason) {
        for (Outgoing next = outgoing.poll(); next != null; next = outgoing.poll()) {
            complete(next.exchange(), next.callback(), reason);
        }
    }

    private static boolean fail(Exchange exchange, AsyncCallback callback, String reason) {
        exchange.setException(new PublishException(reason));
        callback.done(true);
        return true;
    }

    /** Readiness: DOWN while there is no connection to RabbitMQ, or while the broker blocks publishing. */
    private final class BrokerHealthCheck extends ReadinessCheck {
        BrokerHealthCheck() {
            super("meters", "rabbitmq-publisher");
        }

        @Override
        protected void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
            builder.detail("exchange", exchangeName);
            if (link == null) {
                builder.message(lastError).down();
            } else if (blockedReason != null) {
                builder.message("blocked: " + blockedReason).down();
            } else {
                builder.up();
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

    public void setConnectionString(String connectionString) {
        this.connectionString = connectionString;
    }

    public void setExchangeName(String exchangeName) {
        this.exchangeName = exchangeName;
    }

    public void setLanes(int lanes) {
        this.lanes = lanes;
    }

    public void setConfirmTimeoutMillis(long confirmTimeoutMillis) {
        this.confirmTimeoutMillis = confirmTimeoutMillis;
    }

    public void setAlarmProbeMillis(long alarmProbeMillis) {
        this.alarmProbeMillis = alarmProbeMillis;
    }

    public void setReconnectDelayMillis(long reconnectDelayMillis) {
        this.reconnectDelayMillis = reconnectDelayMillis;
    }
}
