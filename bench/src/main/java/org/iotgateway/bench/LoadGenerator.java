package org.iotgateway.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmCallback;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.AMQP;

/**
 * Simulates MQTT-SN meters against the gateway: each device CONNECTs, REGISTERs its topic, then sends the 162-byte
 * Elvaco reading as QoS 1 PUBLISH, the next one as soon as the PUBACK arrives (closed loop), then at a fixed total
 * rate (open loop). A consumer drains the bound queue and counts what RabbitMQ holds. Prints key=value lines.
 *
 * <pre>
 * ingest   port devices warmup seconds amqpUri gatewayPid [rate]
 *          closed loop, or open loop at rate msgs/s: warmup seconds not counted (this JVM's JIT), then seconds
 *          measured (amqpUri in the Java client's form: amqp://guest:guest@127.0.0.1:5672/%2F)
 * register port devices                                        CONNECT + REGISTER devices (distinct ip:port each)
 * bind     amqpUri exchange queue bindingKey                    declare a topic exchange and a queue bound to it
 * drain    amqpUri seconds                                      consume the readings queue, as ingest does, and count
 * publish  amqpUri warmup seconds rate routingKey contentType properties
 *          the gateway's AMQP message for a reading (properties as perf-test's --message-properties: contentEncoding,
 *          priority, the rest headers), persistent, to the mqtt-sn exchange at rate msgs/s with publisher confirms on
 *          one channel, each timed from publish to confirm: the latency RabbitMQ itself gives at that rate, to set the
 *          gateway's against
 * </pre>
 */
public final class LoadGenerator {

    /** The Elvaco reading of the reference vectors; perf-test's baseline sends the same file as its body. */
    static final byte[] PAYLOAD = readPayload();
    static final long RETRY_NANOS = 2_000_000_000L;

    public static void main(String[] args) throws Exception {
        if (args[0].equals("bind")) {
            bind(args[1], args[2], args[3], args[4]);
            return;
        }
        if (args[0].equals("drain")) {
            AtomicLong consumed = new AtomicLong();
            Connection connection = consumer(args[1], consumed);
            Thread.sleep(Long.parseLong(args[2]) * 1000);
            connection.close();
            System.out.printf(Locale.ROOT, "consumed_from_queue=%d%n", consumed.get());
            return;
        }
        if (args[0].equals("publish")) {
            publish(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Integer.parseInt(args[4]), args[5],
                    properties(args[6], args[7]));
            return;
        }
        int port = Integer.parseInt(args[1]);
        int devices = Integer.parseInt(args[2]);
        if (args[0].equals("register")) {
            register(port, devices);
        } else {
            ingest(port, devices, Integer.parseInt(args[3]), Integer.parseInt(args[4]), args[5],
                    Long.parseLong(args[6]), args.length > 7 ? Integer.parseInt(args[7]) : 0);
        }
    }

    /** One simulated meter. */
    static final class Device {
        final DatagramChannel channel;
        final String id;
        int state; // 0 connecting, 1 registering, 2 ready, 3 awaiting PUBACK
        int msgId;
        long sentAt;
        boolean dup;
        final byte[] publish = new byte[7 + PAYLOAD.length];

        Device(DatagramChannel channel, String id) {
            this.channel = channel;
            this.id = id;
            publish[0] = (byte) publish.length;
            publish[1] = 0x0c;
            publish[4] = 1;
            System.arraycopy(PAYLOAD, 0, publish, 7, PAYLOAD.length);
        }
    }

    static void ingest(int port, int deviceCount, int warmupSeconds, int seconds, String amqpUrl, long gatewayPid,
                       int rate) throws Exception {
        InetSocketAddress gateway = new InetSocketAddress("127.0.0.1", port);
        AtomicLong consumed = new AtomicLong();
        Connection amqp = consumer(amqpUrl, consumed);
        Selector selector = Selector.open();
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < deviceCount; i++) {
            devices.add(openDevice(selector, "127.0.0.1", gateway, String.format("BENCH%011d", i)));
        }
        ByteBuffer in = ByteBuffer.allocateDirect(65536);
        long setupStart = System.nanoTime();
        connectAndRegister(selector, devices, in);
        System.out.printf(Locale.ROOT, "setup_seconds=%.2f%n", (System.nanoTime() - setupStart) / 1e9);

        long consumedBefore = consumed.get();
        long[] latencies = new long[5_000_000];
        int latencyCount = 0;
        long acked = 0, congestion = 0, retries = 0, sent = 0;
        long start = System.nanoTime();
        // the counters below are taken when the warm-up ends; sent_in_all, acked_in_all and loss count the whole run
        long measureFrom = start + warmupSeconds * 1_000_000_000L;
        long end = measureFrom + seconds * 1_000_000_000L;
        boolean measuring = false;
        long ackedBefore = 0, congestionBefore = 0, retriesBefore = 0, cpuBefore = 0, ownCpuBefore = 0;
        int cursor = 0;
        long nextRetryScan = 0;
        for (Device d : devices) {
            if (rate == 0) {
                publish(d);
                sent++;
            }
        }
        while (System.nanoTime() < end) {
            if (!measuring && System.nanoTime() >= measureFrom) {
                measuring = true;
                measureFrom = System.nanoTime();
                ackedBefore = acked;
                congestionBefore = congestion;
                retriesBefore = retries;
                cpuBefore = cpuTicks(gatewayPid);
                ownCpuBefore = cpuTicks(ProcessHandle.current().pid());
            }
            if (rate > 0) {
                // open loop: each millisecond, the sends that are due go out from devices not awaiting a PUBACK
                long due = (long) ((System.nanoTime() - start) * (rate / 1e9)) - sent;
                for (int scanned = 0; due > 0 && scanned < deviceCount; scanned++) {
                    Device d = devices.get(cursor);
                    cursor = (cursor + 1) % deviceCount;
                    if (d.state == 2) {
                        publish(d);
                        sent++;
                        due--;
                        scanned = 0;
                    }
                }
                selector.select(1);
            } else {
                selector.select(10);
            }
            for (SelectionKey key : selector.selectedKeys()) {
                Device d = (Device) key.attachment();
                // one read per ready socket: the selector reports it again if more is waiting
                in.clear();
                if (d.channel.read(in) > 0) {
                    int type = in.get(1) & 0xff;
                    int msgId = ((in.get(4) & 0xff) << 8) | (in.get(5) & 0xff);
                    if (type == 0x0d && d.state == 3 && msgId == d.msgId) {
                        int rc = in.get(6);
                        if (rc == 0) {
                            acked++;
                            if (measuring && latencyCount < latencies.length) {
                                latencies[latencyCount++] = System.nanoTime() - d.sentAt;
                            }
                            d.state = 2;
                            d.dup = false;
                            if (rate == 0) {
                                publish(d);
                                sent++;
                            }
                        } else {
                            congestion++;
                            d.dup = true;
                            send(d, publishBytes(d));
                            retries++;
                        }
                    }
                }
            }
            selector.selectedKeys().clear();
            long now = System.nanoTime();
            if (now < nextRetryScan) {
                continue;
            }
            nextRetryScan = now + 100_000_000L;
            for (Device d : devices) {
                if (d.state == 3 && now - d.sentAt > RETRY_NANOS) {
                    d.dup = true;
                    send(d, publishBytes(d));
                    retries++;
                }
            }
        }
        double elapsed = (System.nanoTime() - measureFrom) / 1e9;
        long cpuAfter = cpuTicks(gatewayPid);
        long ownCpuAfter = cpuTicks(ProcessHandle.current().pid());
        long consumerLag = acked - (consumed.get() - consumedBefore);
        // let the queue's consumer catch up with what was confirmed
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (consumed.get() - consumedBefore < acked && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        long inQueue = consumed.get() - consumedBefore;
        amqp.close();
        long[] sorted = Arrays.copyOf(latencies, latencyCount);
        Arrays.sort(sorted);
        long measured = acked - ackedBefore;
        double cpuSeconds = (cpuAfter - cpuBefore) / 100.0;
        System.out.printf(Locale.ROOT, "devices=%d%nwarmup_seconds=%d%nseconds=%.2f%n", deviceCount, warmupSeconds, elapsed);
        System.out.printf(Locale.ROOT, "acked=%d%ncongestion=%d%nretries=%d%n", measured, congestion - congestionBefore,
                retries - retriesBefore);
        System.out.printf(Locale.ROOT, "msgs_per_second=%.0f%n", measured / elapsed);
        System.out.printf(Locale.ROOT, "p50_ms=%.2f%np99_ms=%.2f%nmax_ms=%.2f%n",
                pct(sorted, 0.50), pct(sorted, 0.99), sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6);
        System.out.printf(Locale.ROOT, "gateway_cpu_seconds=%.2f%ngateway_cpu_us_per_msg=%.1f%n",
                cpuSeconds, measured == 0 ? 0 : cpuSeconds * 1e6 / measured);
        System.out.printf(Locale.ROOT, "load_generator_cpu_us_per_msg=%.1f%n",
                measured == 0 ? 0 : (ownCpuAfter - ownCpuBefore) * 1e4 / measured);
        // loss over the whole run, warm-up included: every PUBLISH that got PUBACK rc 0 must reach the queue
        System.out.printf(Locale.ROOT, "sent_in_all=%d%nacked_in_all=%d%nconsumed_from_queue=%d%nlost=%d%n", sent, acked,
                inQueue, Math.max(0, acked - inQueue));
        System.out.printf(Locale.ROOT, "consumer_lag_at_end=%d%n", consumerLag);
    }

    static void publish(String amqpUrl, int warmupSeconds, int seconds, int rate, String routingKey,
                        AMQP.BasicProperties properties) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(amqpUrl);
        Connection connection = factory.newConnection("bench publisher");
        Channel channel = connection.createChannel();
        channel.exchangeDeclare("mqtt-sn", "topic", true);
        channel.confirmSelect();
        int total = rate * (warmupSeconds + seconds);
        AtomicLongArray publishedAt = new AtomicLongArray(total + 1);
        long[] latencies = new long[total];
        long start = System.nanoTime();
        long measureFrom = start + warmupSeconds * 1_000_000_000L;
        AtomicLong confirmedUpTo = new AtomicLong();
        AtomicLong nacked = new AtomicLong();
        AtomicInteger latencyCount = new AtomicInteger();
        // the confirms arrive on the connection's thread, in order; a multiple one settles every tag up to its own
        ConfirmCallback settle = (tag, multiple) -> {
            long now = System.nanoTime();
            for (long seq = confirmedUpTo.get() + 1; seq <= tag; seq++) {
                long at = publishedAt.get((int) seq);
                if (at >= measureFrom) {
                    latencies[latencyCount.getAndIncrement()] = now - at;
                }
            }
            confirmedUpTo.set(Math.max(confirmedUpTo.get(), tag));
        };
        channel.addConfirmListener(settle, (tag, multiple) -> {
            nacked.incrementAndGet();
            settle.handle(tag, multiple);
        });
        long end = measureFrom + seconds * 1_000_000_000L;
        int sent = 0;
        int sentBeforeMeasuring = -1;
        while (System.nanoTime() < end && sent < total) {
            long now = System.nanoTime();
            if (sentBeforeMeasuring < 0 && now >= measureFrom) {
                sentBeforeMeasuring = sent;
            }
            for (long due = (long) ((now - start) * (rate / 1e9)) - sent; due > 0 && sent < total; due--) {
                publishedAt.set((int) channel.getNextPublishSeqNo(), System.nanoTime());
                channel.basicPublish("mqtt-sn", routingKey, properties, PAYLOAD);
                sent++;
            }
            LockSupport.parkNanos(1_000_000L);
        }
        channel.waitForConfirms(10_000);
        connection.close();
        long[] sorted = Arrays.copyOf(latencies, latencyCount.get());
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "seconds=%d%nsent_in_all=%d%nmsgs_per_second=%.0f%nnacked=%d%n", seconds, sent,
                (sent - Math.max(0, sentBeforeMeasuring)) / (double) seconds, nacked.get());
        System.out.printf(Locale.ROOT, "p50_ms=%.2f%np99_ms=%.2f%nmax_ms=%.2f%n",
                pct(sorted, 0.50), pct(sorted, 0.99), sorted.length == 0 ? 0 : sorted[sorted.length - 1] / 1e6);
    }

    /** Persistent properties from perf-test's --message-properties form: key=value pairs, the unknown keys headers. */
    static AMQP.BasicProperties properties(String contentType, String perfTestProperties) {
        AMQP.BasicProperties.Builder properties = new AMQP.BasicProperties.Builder().contentType(contentType).deliveryMode(2);
        Map<String, Object> headers = new HashMap<>();
        for (String pair : perfTestProperties.split(",")) {
            String[] keyValue = pair.split("=", 2);
            switch (keyValue[0]) {
                case "contentEncoding" -> properties.contentEncoding(keyValue[1]);
                case "priority" -> properties.priority(Integer.parseInt(keyValue[1]));
                default -> headers.put(keyValue[0], keyValue[1]);
            }
        }
        return properties.headers(headers).build();
    }

    static void register(int port, int deviceCount) throws Exception {
        InetSocketAddress gateway = new InetSocketAddress("127.0.0.1", port);
        int perAddress = 2000;
        long start = System.nanoTime();
        int done = 0;
        ByteBuffer in = ByteBuffer.allocateDirect(2048);
        for (int batch = 0; done < deviceCount; batch++) {
            // a fresh loopback address per batch keeps every ip:port distinct
            String ip = "127.1." + (batch / 250) + "." + (batch % 250 + 1);
            Selector selector = Selector.open();
            List<Device> devices = new ArrayList<>();
            int size = Math.min(perAddress, deviceCount - done);
            for (int i = 0; i < size; i++) {
                devices.add(openDevice(selector, ip, gateway, String.format("REG%013d", done + i)));
            }
            connectAndRegister(selector, devices, in);
            for (Device d : devices) {
                d.channel.close();
            }
            selector.close();
            done += size;
        }
        System.out.printf(Locale.ROOT, "registered_devices=%d%nregister_seconds=%.1f%n", done, (System.nanoTime() - start) / 1e9);
    }

    /** A device with its own UDP socket on the given loopback address, registered with the selector. */
    static Device openDevice(Selector selector, String ip, InetSocketAddress gateway, String id) throws IOException {
        DatagramChannel channel = deviceChannel(ip, gateway);
        Device device = new Device(channel, id);
        channel.register(selector, SelectionKey.OP_READ, device);
        return device;
    }

    /** A non-blocking UDP socket on the loopback address, connected to the gateway: one device's. */
    static DatagramChannel deviceChannel(String ip, InetSocketAddress gateway) throws IOException {
        DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET).bind(new InetSocketAddress(ip, 0));
        channel.configureBlocking(false);
        channel.connect(gateway);
        return channel;
    }

    /** CONNECT and REGISTER every device, retrying what gets no answer, until all are ready to publish. */
    static void connectAndRegister(Selector selector, List<Device> devices, ByteBuffer in) throws IOException {
        for (Device d : devices) {
            send(d, connect(d.id));
        }
        int ready = 0;
        while (ready < devices.size()) {
            selector.select(100);
            for (SelectionKey key : selector.selectedKeys()) {
                Device d = (Device) key.attachment();
                in.clear();
                if (d.channel.receive(in) == null) {
                    continue;
                }
                int type = in.get(1) & 0xff;
                if (type == 0x05 && d.state == 0) {
                    d.state = 1;
                    send(d, register(d.id));
                } else if (type == 0x0b && d.state == 1) {
                    d.state = 2;
                    ready++;
                }
            }
            selector.selectedKeys().clear();
            long now = System.nanoTime();
            for (Device d : devices) {
                if (d.state < 2 && now - d.sentAt > RETRY_NANOS) {
                    send(d, d.state == 0 ? connect(d.id) : register(d.id));
                }
            }
        }
    }

    /** Declares a durable topic exchange and a durable queue bound to it with the binding key, emptied. */
    static void bind(String amqpUrl, String exchange, String queue, String bindingKey) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(amqpUrl);
        try (Connection connection = factory.newConnection("bench bind")) {
            Channel channel = connection.createChannel();
            channel.exchangeDeclare(exchange, "topic", true);
            channel.queueDeclare(queue, true, false, false, null);
            channel.queuePurge(queue);
            channel.queueBind(queue, exchange, bindingKey);
        }
    }

    static Connection consumer(String amqpUrl, AtomicLong consumed) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(amqpUrl);
        Connection connection = factory.newConnection("bench consumer");
        Channel channel = connection.createChannel();
        channel.exchangeDeclare("mqtt-sn", "topic", true);
        String queue = channel.queueDeclare("bench-readings", true, false, false, null).getQueue();
        channel.queuePurge(queue);
        channel.queueBind(queue, "mqtt-sn", "mr.#");
        // drains like perf-test --autoack, so that both runs ask the same of RabbitMQ's consumer side
        channel.basicConsume(queue, true, new DefaultConsumer(channel) {
            @Override
            public void handleDelivery(String tag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
                consumed.incrementAndGet();
            }
        });
        return connection;
    }

    static byte[] readPayload() {
        try {
            return Files.readAllBytes(Path.of("bench/elvaco-reading.json"));
        } catch (IOException e) {
            throw new IllegalStateException("run from the project root: " + e.getMessage(), e);
        }
    }

    static double pct(long[] sorted, double p) {
        return sorted.length == 0 ? 0 : sorted[(int) Math.min(sorted.length - 1, Math.floor(p * sorted.length))] / 1e6;
    }

    static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }

    static void send(Device d, byte[] datagram) throws IOException {
        d.sentAt = System.nanoTime();
        d.channel.write(ByteBuffer.wrap(datagram));
    }

    static void publish(Device d) throws IOException {
        d.msgId = d.msgId % 65535 + 1;
        d.state = 3;
        send(d, publishBytes(d));
    }

    /** The device's PUBLISH, rewritten in place: only the flags and the message id change between readings. */
    static byte[] publishBytes(Device d) {
        byte[] datagram = d.publish;
        datagram[2] = (byte) (d.dup ? 0xa0 : 0x20);
        datagram[5] = (byte) (d.msgId >> 8);
        datagram[6] = (byte) d.msgId;
        return datagram;
    }

    static byte[] connect(String clientId) {
        byte[] id = clientId.getBytes(StandardCharsets.US_ASCII);
        byte[] datagram = new byte[6 + id.length];
        datagram[0] = (byte) datagram.length;
        datagram[1] = 0x04;
        datagram[2] = 0x04;
        datagram[3] = 0x01;
        datagram[4] = (byte) 0xfd;
        datagram[5] = 0x20;
        System.arraycopy(id, 0, datagram, 6, id.length);
        return datagram;
    }

    static byte[] register(String clientId) {
        byte[] topic = ("mr/" + clientId + "/standard/json").getBytes(StandardCharsets.US_ASCII);
        byte[] datagram = new byte[6 + topic.length];
        datagram[0] = (byte) datagram.length;
        datagram[1] = 0x0a;
        datagram[5] = 0x01;
        System.arraycopy(topic, 0, datagram, 6, topic.length);
        return datagram;
    }
}
