package org.iotgateway.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DeliverCallback;

/**
 * Load for the MQTT-SN downlink: messages published to a topic exchange with routing keys {@code cmd.<device>.set}, each
 * carrying its publish time, at a fixed rate (open loop), one device after another.
 * <pre>
 * gateway   udpPort amqpUri exchange devices warmup seconds rate
 *           devices CONNECT and SUBSCRIBE cmd/&lt;id&gt;/# at QoS 1 through the gateway, answer REGISTER with REGACK and
 *           PUBLISH with PUBACK at once; each message timed from its publish to RabbitMQ to its PUBLISH's arrival
 * direct    amqpUri exchange devices warmup seconds rate
 *           the same messages to another exchange, consumed by one plain AMQP consumer (auto-ack) on a queue bound
 *           with cmd.*.set: what RabbitMQ alone gives at that rate
 * purge     amqpUri queue
 *           empties the downlink queue, so that a run does not start behind an earlier run's messages
 * subscribe udpPort devices
 *           CONNECT and SUBSCRIBE that many devices (distinct ip:port each), then leave them: the store and the
 *           gateway's memory hold one subscription each
 * </pre>
 */
public final class DownlinkLoad {

    private static final int PAYLOAD = 24;

    private DownlinkLoad() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "gateway" -> gateway(Integer.parseInt(args[1]), args[2], args[3], Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Integer.parseInt(args[6]), Integer.parseInt(args[7]));
            case "direct" -> direct(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]), Integer.parseInt(args[6]));
            case "subscribe" -> subscribe(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
            case "purge" -> {
                try (Connection connection = amqp(args[1], "downlink bench purge")) {
                    Channel channel = connection.createChannel();
                    channel.queueDeclare(args[2], true, false, false, null);
                    System.out.printf(Locale.ROOT, "purged=%d%n", channel.queuePurge(args[2]).getMessageCount());
                }
            }
            default -> throw new IllegalArgumentException("gateway, direct, purge or subscribe");
        }
    }

    /** Latencies of the measured part, in microseconds, and what arrived. */
    static final class Tally {
        final long measureFrom;
        final long measureTo;
        final long[] micros = new long[10_000_000];
        int count;
        long received;
        long duplicates;

        Tally(long measureFrom, long measureTo) {
            this.measureFrom = measureFrom;
            this.measureTo = measureTo;
        }

        synchronized void arrived(long publishedAt, long now) {
            received++;
            if (publishedAt >= measureFrom && publishedAt < measureTo && count < micros.length) {
                micros[count++] = (now - publishedAt) / 1000;
            }
        }

        synchronized void print(String prefix, int seconds) {
            long[] sorted = Arrays.copyOf(micros, count);
            Arrays.sort(sorted);
            System.out.printf(Locale.ROOT, "%smeasured=%d%n%smsgs_per_second=%d%n%sp50_ms=%.2f%n%sp99_ms=%.2f%n%smax_ms=%.2f%n",
                    prefix, count, prefix, count / seconds, prefix, percentile(sorted, 0.50), prefix, percentile(sorted, 0.99),
                    prefix, count == 0 ? 0 : sorted[count - 1] / 1000.0);
        }

        private static double percentile(long[] sorted, double p) {
            return sorted.length == 0 ? 0 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1000.0;
        }
    }

    static Connection amqp(String uri, String name) throws Exception {
        ConnectionFactory factory = new ConnectionFactory();
        factory.setUri(uri);
        return factory.newConnection(name);
    }

    /** Publishes cmd.&lt;device&gt;.set at the rate for warmup + seconds; returns how many. */
    static long publish(Channel channel, String exchange, int devices, int warmup, int seconds, int rate) throws IOException {
        String[] keys = new String[devices];
        for (int i = 0; i < devices; i++) {
            keys[i] = "cmd." + deviceId(i) + ".set";
        }
        AMQP.BasicProperties properties = new AMQP.BasicProperties.Builder().deliveryMode(2).build();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(warmup + seconds);
        long interval = 1_000_000_000L / rate;
        long sent = 0;
        ByteBuffer body = ByteBuffer.allocate(PAYLOAD);
        for (long next = start; next < end; next += interval) {
            long wait = next - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            body.clear();
            body.putLong(System.nanoTime());
            channel.basicPublish(exchange, keys[(int) (sent % devices)], properties, body.array().clone());
            sent++;
        }
        return sent;
    }

    static String deviceId(int i) {
        return String.format(Locale.ROOT, "DL%08d", i);
    }

    static void direct(String amqpUri, String exchange, int devices, int warmup, int seconds, int rate) throws Exception {
        try (Connection connection = amqp(amqpUri, "downlink bench direct")) {
            Channel setup = connection.createChannel();
            setup.exchangeDeclare(exchange, "topic", true);
            // durable, as the gateway's queue is, so that RabbitMQ stores the persistent messages in both
            String queue = setup.queueDeclare("bench-downlink-direct", true, false, false, null).getQueue();
            setup.queuePurge(queue);
            setup.queueBind(queue, exchange, "cmd.*.set");
            long now = System.nanoTime();
            Tally tally = new Tally(now + TimeUnit.SECONDS.toNanos(warmup), now + TimeUnit.SECONDS.toNanos(warmup + seconds));
            Channel consumer = connection.createChannel();
            DeliverCallback delivered = (tag, message) -> tally.arrived(ByteBuffer.wrap(message.getBody()).getLong(), System.nanoTime());
            consumer.basicConsume(queue, true, delivered, tag -> { });
            long published = publish(connection.createChannel(), exchange, devices, warmup, seconds, rate);
            Thread.sleep(2000);
            System.out.printf(Locale.ROOT, "direct_published=%d%ndirect_received=%d%n", published, tally.received);
            tally.print("direct_", seconds);
        }
    }

    /** One device: its socket and what it has received. */
    static final class Device {
        final DatagramChannel channel;
        final String id;
        boolean connected;
        boolean subscribed;
        final BitSet seen = new BitSet(65536);

        Device(DatagramChannel channel, String id) {
            this.channel = channel;
            this.id = id;
        }
    }

    static void gateway(int port, String amqpUri, String exchange, int deviceCount, int warmup, int seconds, int rate)
            throws Exception {
        InetSocketAddress gateway = new InetSocketAddress("127.0.0.1", port);
        Selector selector = Selector.open();
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < deviceCount; i++) {
            devices.add(open(selector, "127.0.0.1", gateway, deviceId(i)));
        }
        subscribeAll(selector, devices);
        long now = System.nanoTime();
        Tally tally = new Tally(now + TimeUnit.SECONDS.toNanos(warmup), now + TimeUnit.SECONDS.toNanos(warmup + seconds));
        AtomicLong published = new AtomicLong();
        Thread publisher = new Thread(() -> {
            try (Connection connection = amqp(amqpUri, "downlink bench publisher")) {
                published.set(publish(connection.createChannel(), exchange, deviceCount, warmup, seconds, rate));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        publisher.start();
        ByteBuffer in = ByteBuffer.allocateDirect(2048);
        long stopAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmup + seconds + 3);
        while (System.nanoTime() < stopAt) {
            selector.select(100);
            for (SelectionKey key : selector.selectedKeys()) {
                Device device = (Device) key.attachment();
                for (in.clear(); device.channel.receive(in) != null; in.clear()) {
                    long arrived = System.nanoTime();
                    in.flip();
                    int type = in.get(1) & 0xff;
                    if (type == 0x05) {
                        // a CONNACK that came after the SUBACK: its clean session ended the subscription
                        send(device, subscribe(device));
                    } else if (type == 0x0a) {
                        // REGISTER: REGACK with its topic id and message id
                        send(device, new byte[] {7, 0x0b, in.get(2), in.get(3), in.get(4), in.get(5), 0});
                    } else if (type == 0x0c) {
                        int msgId = (in.get(5) & 0xff) << 8 | in.get(6) & 0xff;
                        send(device, new byte[] {7, 0x0d, in.get(3), in.get(4), in.get(5), in.get(6), 0});
                        if (device.seen.get(msgId) && (in.get(2) & 0x80) != 0) {
                            tally.duplicates++;
                        } else {
                            device.seen.set(msgId);
                            tally.arrived(in.getLong(7), arrived);
                        }
                    }
                }
            }
            selector.selectedKeys().clear();
        }
        publisher.join();
        System.out.printf(Locale.ROOT, "devices=%d%npublished=%d%nreceived=%d%nduplicates=%d%n", deviceCount, published.get(),
                tally.received, tally.duplicates);
        tally.print("", seconds);
    }

    static Device open(Selector selector, String ip, InetSocketAddress gateway, String id) throws IOException {
        DatagramChannel channel = LoadGenerator.deviceChannel(ip, gateway);
        Device device = new Device(channel, id);
        channel.register(selector, SelectionKey.OP_READ, device);
        return device;
    }

    static void send(Device device, byte[] datagram) throws IOException {
        device.channel.write(ByteBuffer.wrap(datagram));
    }

    /**
     * CONNECT (clean) and SUBSCRIBE cmd/&lt;id&gt;/# at QoS 1, retrying what gets no answer, until every SUBACK is in. A
     * device that has its CONNACK retries the SUBSCRIBE, never the CONNECT: a clean CONNECT after the SUBSCRIBE would
     * end the subscription, as MQTT-SN says it does.
     */
    static void subscribeAll(Selector selector, List<Device> devices) throws IOException {
        ByteBuffer in = ByteBuffer.allocateDirect(2048);
        for (int attempt = 0; attempt < 20; attempt++) {
            int waiting = 0;
            for (Device d : devices) {
                if (d.connected && !d.subscribed) {
                    send(d, subscribe(d));
                    waiting++;
                } else if (!d.connected) {
                    byte[] id = d.id.getBytes(StandardCharsets.US_ASCII);
                    byte[] connect = new byte[6 + id.length];
                    connect[0] = (byte) connect.length;
                    connect[1] = 0x04;
                    connect[2] = 0x04;
                    connect[3] = 0x01;
                    connect[4] = 0x0e;
                    connect[5] = 0x10;
                    System.arraycopy(id, 0, connect, 6, id.length);
                    send(d, connect);
                    waiting++;
                }
            }
            if (waiting == 0) {
                return;
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < until && waiting > 0) {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    Device d = (Device) key.attachment();
                    for (in.clear(); d.channel.receive(in) != null; in.clear()) {
                        int type = in.get(1) & 0xff;
                        if (type == 0x05) {
                            // also a late CONNACK to a repeated CONNECT, which ended the subscription: subscribe again
                            d.connected = true;
                            send(d, subscribe(d));
                        } else if (type == 0x13 && !d.subscribed) {
                            d.subscribed = true;
                            waiting--;
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        throw new IllegalStateException("devices left without SUBACK after 20 attempts");
    }

    static byte[] subscribe(Device device) {
        byte[] filter = ("cmd/" + device.id + "/#").getBytes(StandardCharsets.US_ASCII);
        byte[] subscribe = new byte[5 + filter.length];
        subscribe[0] = (byte) subscribe.length;
        subscribe[1] = 0x12;
        subscribe[2] = 0x20;
        subscribe[4] = 1;
        System.arraycopy(filter, 0, subscribe, 5, filter.length);
        return subscribe;
    }

    static void subscribe(int port, int deviceCount) throws Exception {
        InetSocketAddress gateway = new InetSocketAddress("127.0.0.1", port);
        long start = System.nanoTime();
        int done = 0;
        for (int batch = 0; done < deviceCount; batch++) {
            String ip = "127.2." + (batch / 250) + "." + (batch % 250 + 1);
            Selector selector = Selector.open();
            List<Device> devices = new ArrayList<>();
            int size = Math.min(2000, deviceCount - done);
            for (int i = 0; i < size; i++) {
                devices.add(open(selector, ip, gateway, String.format(Locale.ROOT, "DS%010d", done + i)));
            }
            subscribeAll(selector, devices);
            for (Device d : devices) {
                d.channel.close();
            }
            selector.close();
            done += size;
        }
        System.out.printf(Locale.ROOT, "subscribed_devices=%d%nsubscribe_seconds=%.1f%n", done, (System.nanoTime() - start) / 1e9);
    }
}
