package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.iotgateway.testing.GatewayProcess;
import org.iotgateway.testing.Metrics;
import org.iotgateway.testing.RedisCluster;
import org.iotgateway.testing.RedisServer;
import org.iotgateway.testing.RunningGateway;

/**
 * Benchmark of the MQTT-SN store on a Redis Cluster against the same load on one Redis, side by side in one run: one
 * packaged gateway, DEVICES meters (one loopback address each) sending QoS 1 readings open loop at RATE readings/s,
 * first with a redis-server of its own as the store, then with a Cluster of three masters of its own (the same
 * binary). For each, over the same measured window: readings/s, gateway CPU per reading, store commands and store CPU
 * (all nodes) per reading, p99; then the store's commands per second while the meters are idle (the supervision's
 * sweeps). Needs RabbitMQ (IT_AMQP_URL). Prints key=value lines. Arguments: devices rate warmupSeconds seconds rounds.
 */
public final class StoreClusterBench {

    private StoreClusterBench() {
    }

    public static void main(String[] args) throws Exception {
        int devices = Integer.parseInt(args[0]);
        int rate = Integer.parseInt(args[1]);
        int warmup = Integer.parseInt(args[2]);
        int seconds = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        Path dir = Path.of("target", "store-cluster-bench");
        for (int round = 1; round <= rounds; round++) {
            try (RedisServer single = RedisServer.start(dir.resolve("round-" + round + "-single.log"))) {
                measure("round" + round + "_single_", "s" + round, List.of(single), "redis://127.0.0.1:" + single.port(), devices,
                        rate, warmup, seconds);
            }
            try (RedisCluster cluster = new RedisCluster(dir.resolve("round-" + round + "-cluster"), 3, 0)) {
                measure("round" + round + "_cluster_", "c" + round, cluster.nodes(), cluster.url(), devices, rate, warmup, seconds);
            }
        }
    }

    /** One store's figures, printed with {@code key} before each name; {@code run} goes into the meters' client ids. */
    private static void measure(String key, String run, List<RedisServer> servers, String store, int devices, int rate,
                                int warmup, int seconds) throws Exception {
        int port = RunningGateway.freeUdpPort();
        try (StoreNodes nodes = StoreNodes.of(servers);
             GatewayProcess gateway = GatewayProcess.start(List.of(), "127.0.0.1",
                Map.of("GATEWAY_GROUPS", "mqttsn", "MQTTSN_HOST", "127.0.0.1", "MQTTSN_PORT", Integer.toString(port),
                        "MQTTSN_VALKEY_CONNECTION_STRING", store, "MQTTSN_AMQP_CONNECTION_STRING", System.getenv("IT_AMQP_URL"),
                        "MQTTSN_DOWNLINK_ENABLED", "false"),
                Path.of("target", "store-cluster-bench", key + "gateway.log"))) {
            gateway.awaitReady(Duration.ofSeconds(90));
            ScaleOutBench.Meters meters = new ScaleOutBench.Meters(new InetSocketAddress("127.0.0.1", port), devices,
                    device -> "127.77." + (device / 200) + "." + (10 + device % 200), run);
            meters.connectAndRegister();
            meters.warmUp(rate, Duration.ofSeconds(warmup));
            long commands = nodes.commands();
            long storeTicks = nodes.cpuTicks();
            long gatewayTicks = Metrics.cpuTicks(gateway.pid());
            ScaleOutBench.Window window = meters.window(rate, Duration.ofSeconds(seconds));
            window.print(key);
            System.out.printf(Locale.ROOT, "%sgateway_cpu_us_per_reading=%.1f%n", key,
                    (Metrics.cpuTicks(gateway.pid()) - gatewayTicks) * 10_000.0 / window.readings());
            System.out.printf(Locale.ROOT, "%sstore_commands_per_reading=%.4f%n", key, (nodes.commands() - commands) / (double) window.readings());
            System.out.printf(Locale.ROOT, "%sstore_cpu_us_per_reading=%.2f%n", key, (nodes.cpuTicks() - storeTicks) * 10_000.0 / window.readings());
            long idleCommands = nodes.commands();
            long idleTicks = nodes.cpuTicks();
            long idleStart = System.nanoTime();
            Thread.sleep(10_000);
            double idleElapsed = (System.nanoTime() - idleStart) / 1e9;
            System.out.printf(Locale.ROOT, "%sidle_store_commands_per_second=%.1f%n", key, (nodes.commands() - idleCommands) / idleElapsed);
            System.out.printf(Locale.ROOT, "%sidle_store_cpu_percent=%.2f%n", key, (nodes.cpuTicks() - idleTicks) / idleElapsed);
        }
    }

    /** The store's nodes, each with a connection of the bench's own to read its counters. */
    private record StoreNodes(List<RedisServer> servers, List<RedisClient> clients,
                              List<StatefulRedisConnection<String, String>> connections) implements AutoCloseable {

        static StoreNodes of(List<RedisServer> servers) {
            List<RedisClient> clients = servers.stream().map(node -> RedisClient.create("redis://127.0.0.1:" + node.port())).toList();
            return new StoreNodes(servers, clients, clients.stream().map(RedisClient::connect).toList());
        }

        /** Commands processed by all the nodes so far (the bench's own INFO included: one per node per call). */
        long commands() {
            return connections.stream().mapToLong(connection -> Long.parseLong(connection.sync().info("stats").lines()
                    .filter(line -> line.startsWith("total_commands_processed:")).findFirst().orElseThrow()
                    .substring("total_commands_processed:".length()).strip())).sum();
        }

        long cpuTicks() {
            return servers.stream().mapToLong(node -> Metrics.cpuTicks(node.pid())).sum();
        }

        @Override
        public void close() {
            connections.forEach(StatefulRedisConnection::close);
            clients.forEach(RedisClient::shutdown);
        }
    }

}
