package org.iotgateway.meters;

import java.io.IOException;
import java.security.NoSuchAlgorithmException;
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
 * Publishes the exchange body to a RabbitMQ exchange and completes the exchange only when the broker has confirmed
 * the message (publisher confirms, asynchronous and correlated per message), so a route that ends here acknowledges
 * its source exactly when RabbitMQ holds the message. A nack, a lost connection, a blocked broker or no confirm
 * within the timeout fail the exchange.
 * <p>
 * Headers: {@value #ROUTING_KEY} is the routing key; every header whose name does not start with "Camel" becomes an
 * AMQP header. Messages carry the Python gateway's properties: content type {@code application/data}, encoding
 * {@code binary}, persistent, priority 0.
 * <p>
 * One connection serves the whole process, with one channel ("lane") by default: RabbitMQ confirms a busy channel in
 * larger batches, which measured cheaper for the broker than spreading the same load over four. Messages are sent in
 * batches, one socket write each (see {@link BatchingConnectionFactory}), so that under load neither the gateway nor
 * RabbitMQ pays a system call per message:
 * <ul>
 * <li>A route running on a Netty event loop (the MQTT-SN socket's thread, or the Redis client's after a lookup)
 * publishes its message itself and leaves the write to a task on that loop, which runs once the loop has handled
 * everything it read: one write per read cycle, and no other thread to wake. It does so only while the writer has
 * nothing waiting (so that messages keep their order) and while the bytes RabbitMQ has not confirmed are a small part
 * of the socket's send buffer, so that the write cannot block the event loop.</li>
 * <li>Otherwise the message waits for the writer, a thread that publishes everything waiting and sends it with one
 * write. When RabbitMQ is slow to read, only the writer waits.</li>
 * </ul>
 * When the connection drops it is opened again in the background, and publishing fails fast meanwhile.
 */
public class ConfirmingAmqpPublisher extends AsyncProcessorSupport implements CamelContextAware {

    /** The routing key of the message. */
    public static final String ROUTING_KEY = "CamelAmqpRoutingKey";

    private static final Logger LOG = LoggerFactory.getLogger(ConfirmingAmqpPublisher.class);
    private static final String CONTENT_TYPE = "application/data";
    private static final String CONTENT_ENCODING = "binary";
    /** What a message adds to the socket besides its body: frame headers, routing key, properties (an estimate). */
    private static final int FRAME_OVERHEAD = 256;
    /** The most unconfirmed bytes an event loop publishes behind, whatever the send buffer. */
    private static final int MAX_EVENT_LOOP_BACKLOG = 64 * 1024;

    private CamelContext camelContext;
    private String connectionString = "amqp://guest:guest@localhost:5672//";
    private String exchangeName = "mqtt-sn";
    private int lanes = 1;
    private long confirmTimeoutMillis = 10_000;
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
    private volatile String lastError = "not connected yet";

    /**
     * An open connection: the socket that is flushed, the channels published on, and whether a write is scheduled on
     * an event loop.
     */
    private record Link(Connection connection, BatchingConnectionFactory.BatchingSocket socket, Lane[] lanes,
                        AtomicBoolean flushScheduled) {

        Link(Connection connection, BatchingConnectionFactory.BatchingSocket socket, Lane[] lanes) {
            this(connection, socket, lanes, new AtomicBoolean());
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
        AmqpUrl url = AmqpUrl.parse(connectionString);
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "amqp-publisher");
            thread.setDaemon(true);
            return thread;
        });
        writer = new Thread(this::writeLoop, "amqp-publisher-writer");
        writer.setDaemon(true);
        writer.start();
        scheduler.execute(() -> connect(url));
        scheduler.scheduleWithFixedDelay(this::failOverdue, 1, 1, TimeUnit.SECONDS);
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

    private void connect(AmqpUrl url) {
        try {
            BatchingConnectionFactory factory =
                    url.configure(new BatchingConnectionFactory(publishing::isHeldByCurrentThread));
            factory.setAutomaticRecoveryEnabled(false);
            factory.setRequestedHeartbeat(30);
            Connection opened = factory.newConnection("iot-gateway meter ingest");
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
            opened.addBlockedListener(reason -> blockedReason = reason, () -> blockedReason = null);
            Link opening = new Link(opened, factory.lastOpened(), channels);
            opened.addShutdownListener(cause -> {
                if (!cause.isInitiatedByApplication()) {
                    onConnectionLost(url, opening, cause.getMessage());
                }
            });
            link = opening;
            lastError = null;
            LOG.info("Publishing to RabbitMQ exchange '{}' at {} with publisher confirms", exchangeName, url);
        } catch (IOException | TimeoutException | NoSuchAlgorithmException | RuntimeException e) {
            lastError = e.getClass().getSimpleName() + ": " + e.getMessage();
            LOG.warn("Cannot connect to RabbitMQ at {} ({}); retrying in {} ms", url, lastError, reconnectDelayMillis);
            scheduleReconnect(url);
        }
    }

    private void onConnectionLost(AmqpUrl url, Link lost, String reason) {
        link = null;
        lastError = "connection lost: " + reason;
        LOG.warn("RabbitMQ connection lost ({}); readings in flight are answered with congestion", reason);
        failAll(lost, "RabbitMQ connection lost before the confirm");
        scheduleReconnect(url);
    }

    private void scheduleReconnect(AmqpUrl url) {
        if (isRunAllowed() && !scheduler.isShutdown()) {
            scheduler.schedule(() -> connect(url), reconnectDelayMillis, TimeUnit.MILLISECONDS);
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
        String routingKey = exchange.getMessage().getHeader(ROUTING_KEY, String.class);
        if (routingKey == null) {
            return fail(exchange, callback, "no " + ROUTING_KEY + " header");
        }
        byte[] body = exchange.getMessage().getBody(byte[].class);
        Outgoing message =
                new Outgoing(exchange, callback, routingKey, properties(exchange.getMessage().getHeaders()), body);
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
            // the writer may have been handed a message since the check, and must publish it first
            if (!outgoing.isEmpty()) {
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
        }
    }

    private static AMQP.BasicProperties properties(Map<String, Object> camelHeaders) {
        Map<String, Object> headers = null;
        for (Map.Entry<String, Object> header : camelHeaders.entrySet()) {
            if (header.getValue() != null && !header.getKey().regionMatches(true, 0, "Camel", 0, 5)) {
                if (headers == null) {
                    headers = new HashMap<>();
                }
                headers.put(header.getKey(), header.getValue());
            }
        }
        return new AMQP.BasicProperties.Builder()
                .contentType(CONTENT_TYPE)
                .contentEncoding(CONTENT_ENCODING)
                .deliveryMode(2)
                .priority(0)
                .headers(headers)
                .build();
    }

    private void settle(Lane lane, long seq, boolean multiple, String failure) {
        long now = System.nanoTime();
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
        callback.done(false);
    }

    private void failOverdue() {
        Link current = link;
        if (current == null) {
            return;
        }
        long limit = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(confirmTimeoutMillis);
        for (Lane lane : current.lanes()) {
            for (Map.Entry<Long, Pending> oldest = lane.pending.firstEntry();
                 oldest != null && oldest.getValue().publishedAt() < limit;
                 oldest = lane.pending.firstEntry()) {
                complete(lane.pending.remove(oldest.getKey()), "no confirm from RabbitMQ within " + confirmTimeoutMillis + " ms");
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

    public void setReconnectDelayMillis(long reconnectDelayMillis) {
        this.reconnectDelayMillis = reconnectDelayMillis;
    }
}
