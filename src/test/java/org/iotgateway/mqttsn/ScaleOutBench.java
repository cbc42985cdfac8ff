package org.iotgateway.mqttsn;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntFunction;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.iotgateway.ValkeyUri;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.GatewayProcess;
import org.iotgateway.testing.Metrics;
import org.iotgateway.testing.StallingProxy;
import org.iotgateway.testing.UdpLoadBalancer;
import org.iotgateway.testing.Vectors;

/**
 * The scale-out benchmark (run by bench/scale-out as root, not by the tests): the same open-loop load of QoS 1 readings
 * through the kernel's UDP balancing (as {@link ScaleOutIT}) to one packaged gateway, then to three, for ROUNDS rounds;
 * and one gateway at a third of the load, which is each instance's share when there are three.
 * For each: readings acknowledged per second, gateway CPU per reading (all instances' user + system time), store
 * commands per reading (Redis's total_commands_processed) and RabbitMQ CPU per reading (its beam process), all over the
 * same measured window. Then the store's memory per device. Needs the CI servers (IT_AMQP_URL, IT_VALKEY_URL). Prints
 * key=value lines. Arguments: devices (at most 150: one address each) rate warmupSeconds seconds rounds rabbitmqPid.
 */
public final class ScaleOutBench {

    private static final long TICK_NANOS = 10_000_000L;
    private static final HexFormat HEX = HexFormat.of();

    private ScaleOutBench() {
    }

    public static void main(String[] args) throws Exception {
        int devices = Integer.parseInt(args[0]);
        int rate = Integer.parseInt(args[1]);
        int warmup = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        long rabbitmqPid = Long.parseLong(args[5]);
        String valkey = System.getenv("IT_VALKEY_URL");
        RedisClient redis = ValkeyUri.client(valkey);
        try (StatefulRedisConnection<String, String> store = redis.connect();
             AmqpQueue readings = new AmqpQueue(System.getenv("IT_AMQP_URL"), "mqtt-sn", "bench.#", "scale-out-bench")) {
            for (int round = 1; round <= rounds; round++) {
                // three instances at the rate; one at the rate; one at a third of it, each instance's share with three
                for (int[] configuration : new int[][] {{1, rate}, {1, rate / 3}, {3, rate}}) {
                    int instances = configuration[0];
                    int load = configuration[1];
                    store.sync().flushdb();
                    String key = "round" + round + "_instances" + instances + "_rate" + load + "_";
                    try (UdpLoadBalancer balancer = new UdpLoadBalancer(2883, instances, devices);
                         StallingProxy storeRelay = StallingProxy.at(UdpLoadBalancer.HOST_ADDRESS, valkey);
                         StallingProxy brokerRelay = StallingProxy.at(UdpLoadBalancer.HOST_ADDRESS, System.getenv("IT_AMQP_URL"))) {
                        List<GatewayProcess> gateways = start(instances, storeRelay.url(), brokerRelay.url());
                        try {
                            Meters meters = new Meters(balancer.serviceAddress(), devices, UdpLoadBalancer::deviceAddress, "r" + round + "i" + instances + "l" + load);
                            meters.connectAndRegister();
                            if (round == 1 && instances == 1 && load == rate) {
                                // what the devices' keys take (MEMORY USAGE: value, key and the key's own overhead)
                                long bytes = 0;
                                for (String name : store.sync().keys("*")) {
                                    bytes += store.sync().memoryUsage(name);
                                }
                                System.out.printf(Locale.ROOT, "store_bytes_per_device=%d%n", bytes / devices);
                                System.out.printf(Locale.ROOT, "store_keys_per_device=%.1f%n", store.sync().dbsize() / (double) devices);
                            }
                            meters.warmUp(load, Duration.ofSeconds(warmup));
                            long commands = commands(store);
                            long gatewayTicks = gateways.stream().mapToLong(gateway -> Metrics.cpuTicks(gateway.pid())).sum();
                            long rabbitTicks = Metrics.cpuTicks(rabbitmqPid);
                            Window window = meters.window(load, Duration.ofSeconds(seconds));
                            long readingsMeasured = window.readings();
                            window.print(key);
                            System.out.printf(Locale.ROOT, "%sgateway_cpu_us_per_reading=%.1f%n", key,
                                    (gateways.stream().mapToLong(gateway -> Metrics.cpuTicks(gateway.pid())).sum() - gatewayTicks) * 10_000.0 / readingsMeasured);
                            System.out.printf(Locale.ROOT, "%sstore_commands_per_reading=%.3f%n", key,
                                    (commands(store) - commands) / (double) readingsMeasured);
                            System.out.printf(Locale.ROOT, "%srabbitmq_cpu_us_per_reading=%.1f%n", key,
                                    (Metrics.cpuTicks(rabbitmqPid) - rabbitTicks) * 10_000.0 / readingsMeasured);
                        } finally {
                            for (GatewayProcess gateway : gateways) {
                                gateway.close();
                            }
                        }
                    }
                }
            }
        } finally {
            redis.shutdown();
        }
    }

    private static List<GatewayProcess> start(int instances, String valkey, String amqp) throws Exception {
        List<GatewayProcess> gateways = new ArrayList<>();
        for (int instance = 1; instance <= instances; instance++) {
            gateways.add(GatewayProcess.start(UdpLoadBalancer.onBackend(instance), UdpLoadBalancer.backendAddress(instance),
                    Map.of("GATEWAY_GROUPS", "mqttsn", "MQTTSN_HOST", "0.0.0.0", "MQTTSN_PORT", "2883",
                            "MQTTSN_VALKEY_CONNECTION_STRING", valkey, "MQTTSN_AMQP_CONNECTION_STRING", amqp,
                            "MQTTSN_DOWNLINK_ENABLED", "false"),
                    Path.of("target", "scale-out-bench", "gateway-" + instance + ".log")));
        }
        for (GatewayProcess gateway : gateways) {
            gateway.awaitReady(Duration.ofSeconds(90));
        }
        return gateways;
    }

    private static long commands(StatefulRedisConnection<String, String> store) {
        return Long.parseLong(field(store.sync().info("stats"), "total_commands_processed"));
    }

    private static String field(String info, String name) {
        return info.lines().filter(line -> line.startsWith(name + ":")).findFirst().orElseThrow().substring(name.length() + 1).strip();
    }

    /** What a measured window acknowledged: readings, their rate, the readings of it left without PUBACK, p99. */
    record Window(long readings, double perSecond, long unacknowledged, double p99Millis) {

        void print(String key) {
            System.out.printf(Locale.ROOT, "%sreadings_per_second=%.0f%n", key, perSecond);
            System.out.printf(Locale.ROOT, "%sp99_ms=%.2f%n", key, p99Millis);
            System.out.printf(Locale.ROOT, "%sunacknowledged=%d%n", key, unacknowledged);
        }
    }

    /** Meters at addresses of their own, one socket each, driven open loop from one thread. */
    static final class Meters {
        final List<DatagramChannel> sockets = new ArrayList<>();
        final Selector selector;
        final String run;
        final long[] sentAt;
        final long[] latencies = new long[2_000_000];
        int latencyCount;
        long sent;
        long acked;
        int msgId;

        /** {@code devices} meters, each at its own {@code deviceAddress}. */
        Meters(InetSocketAddress service, int devices, IntFunction<String> deviceAddress, String run) throws IOException {
            this.selector = Selector.open();
            this.run = run;
            this.sentAt = new long[devices];
            for (int device = 0; device < devices; device++) {
                DatagramChannel socket = DatagramChannel.open(StandardProtocolFamily.INET)
                        .bind(new InetSocketAddress(deviceAddress.apply(device), 0));
                socket.connect(service);
                socket.configureBlocking(false);
                socket.register(selector, SelectionKey.OP_READ, device);
                sockets.add(socket);
            }
        }

        void connectAndRegister() throws IOException {
            ByteBuffer in = ByteBuffer.allocate(512);
            for (int device = 0; device < sockets.size(); device++) {
                DatagramChannel socket = sockets.get(device);
                exchange(socket, Vectors.message("04 04 01 02 58", "bench-" + run + "-" + device), in, "03 05 00");
                exchange(socket, Vectors.message("0a 00 00 00 01", "bench/" + run + "/" + device), in, "07 0b 00 01 00 01 00");
            }
        }

        private void exchange(DatagramChannel socket, byte[] request, ByteBuffer in, String expected) throws IOException {
            for (int attempt = 0; attempt < 5; attempt++) {
                socket.write(ByteBuffer.wrap(request));
                long deadline = System.nanoTime() + 2_000_000_000L;
                while (System.nanoTime() < deadline) {
                    in.clear();
                    if (socket.read(in) > 0) {
                        String reply = HexFormat.ofDelimiter(" ").formatHex(in.array(), 0, in.position());
                        if (reply.equals(expected)) {
                            return;
                        }
                        throw new IllegalStateException("expected " + expected + ", got " + reply);
                    }
                    Thread.onSpinWait();
                }
            }
            throw new IllegalStateException("no answer to " + HEX.formatHex(request));
        }

        /** Sends rate readings/s (0: none, only reading answers) spread over the devices for the duration, counting the PUBACKs. */
        void run(int rate, Duration duration) throws IOException {
            byte[] payload = "{\"E\":184,\"U\":\"kWh\",\"V\":6580}".getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(7 + payload.length);
            ByteBuffer in = ByteBuffer.allocate(512);
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            long due = 0;
            int next = 0;
            if (rate > 0) {
                latencyCount = 0;
            }
            while (System.nanoTime() < end) {
                long shouldHaveSent = (System.nanoTime() - start) * rate / 1_000_000_000L;
                while (due < shouldHaveSent) {
                    msgId = msgId % 0xfffe + 1;
                    out.clear();
                    out.put((byte) out.capacity()).put((byte) 0x0c).put((byte) 0x20).put((byte) 0).put((byte) 1)
                            .put((byte) (msgId >> 8)).put((byte) msgId).put(payload).flip();
                    sentAt[next] = System.nanoTime();
                    sockets.get(next).write(out);
                    sent++;
                    due++;
                    next = (next + 1) % sockets.size();
                }
                selector.selectNow();
                for (SelectionKey key : selector.selectedKeys()) {
                    DatagramChannel socket = (DatagramChannel) key.channel();
                    in.clear();
                    while (socket.read(in) > 0) {
                        if (in.position() == 7 && in.get(1) == 0x0d && in.get(6) == 0) {
                            acked++;
                            if (latencyCount < latencies.length) {
                                latencies[latencyCount++] = System.nanoTime() - sentAt[(Integer) key.attachment()];
                            }
                        }
                        in.clear();
                    }
                }
                selector.selectedKeys().clear();
                long sleep = TICK_NANOS - (System.nanoTime() - start) % TICK_NANOS;
                if (due >= shouldHaveSent && sleep > 1_000_000) {
                    selector.select(Math.max(1, sleep / 1_000_000));
                }
            }
        }

        /** Sends at the rate for the warm-up, then waits for its late answers, which are not the measured window's. */
        void warmUp(int rate, Duration warmup) throws IOException {
            run(rate, warmup);
            run(0, Duration.ofSeconds(3));
        }

        /** The measured window: sends at the rate for its duration, then takes its last answers for 2 s. */
        Window window(int rate, Duration duration) throws IOException {
            long acked = this.acked;
            long sent = this.sent;
            long start = System.nanoTime();
            run(rate, duration);
            double elapsed = (System.nanoTime() - start) / 1e9;
            run(0, Duration.ofSeconds(2));
            long readings = this.acked - acked;
            return new Window(readings, readings / elapsed, (this.sent - sent) - readings, p99Millis());
        }

        double p99Millis() {
            long[] sorted = Arrays.copyOf(latencies, latencyCount);
            Arrays.sort(sorted);
            return sorted.length == 0 ? Double.NaN : sorted[(int) (sorted.length * 0.99)] / 1e6;
        }
    }
}
