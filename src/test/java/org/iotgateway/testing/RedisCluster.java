package org.iotgateway.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.cluster.SlotHash;

import static org.awaitility.Awaitility.await;

/**
 * A Redis Cluster of the test's own on loopback: {@code masters} masters, each with {@code replicasEach} replicas, made
 * with redis-cli as an operator would. Nodes call a silent peer failed after two seconds, so that a replica takes over
 * a killed master within a few seconds (one second is short for nodes busy on two shared cores).
 */
public final class RedisCluster implements FailingOverStore {

    private final List<RedisServer> nodes = new ArrayList<>();
    private final Path dir;

    public RedisCluster(Path dir, int masters, int replicasEach) throws Exception {
        this.dir = dir;
        Files.createDirectories(dir);
        List<String> addresses = new ArrayList<>();
        try {
            for (int i = 0; i < masters * (1 + replicasEach); i++) {
                int port = RunningGateway.freeTcpPort();
                nodes.add(startNode(port, "node-" + port + ".log"));
                addresses.add("127.0.0.1:" + port);
            }
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            create.addAll(addresses);
            create.addAll(List.of("--cluster-replicas", Integer.toString(replicasEach), "--cluster-yes"));
            Process process = new ProcessBuilder(create).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes());
            if (process.waitFor() != 0) {
                throw new IllegalStateException("redis-cli --cluster create failed:\n" + output);
            }
            await().atMost(30, TimeUnit.SECONDS).alias("every node sees the cluster ok").until(this::allSeeOk);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** A node on the port, its cluster configuration (which a restart reads again) in the cluster's folder. */
    private RedisServer startNode(int port, String log) throws Exception {
        return RedisServer.start(port, dir.resolve(log), "--cluster-enabled", "yes",
                "--cluster-config-file", dir.toAbsolutePath().resolve("nodes-" + port + ".conf").toString(),
                "--cluster-node-timeout", "2000");
    }

    /** Kills every node's process: the whole Cluster is gone, as in a power cut. */
    public void killAll() throws InterruptedException {
        for (RedisServer node : nodes) {
            node.kill();
        }
    }

    /** Starts every node again on its port with its configuration (no data: no persistence), until the cluster is ok. */
    public void restartAll() throws Exception {
        for (int i = 0; i < nodes.size(); i++) {
            int port = nodes.get(i).port();
            nodes.set(i, startNode(port, "node-" + port + "-restarted-" + System.nanoTime() + ".log"));
        }
        await().atMost(30, TimeUnit.SECONDS).alias("every node sees the cluster ok again").until(this::allSeeOk);
    }

    /** The first master's address, which is all a client needs to learn the cluster. */
    @Override
    public String url() {
        return "redis://127.0.0.1:" + nodes.get(0).port();
    }

    @Override
    public boolean cluster() {
        return true;
    }

    public List<RedisServer> nodes() {
        return nodes;
    }

    /** What redis-cli prints for a command, following the cluster's redirections. */
    @Override
    public String cli(String... command) throws Exception {
        return live().cli(prepend("-c", command));
    }

    /** The node that serves the key's slot now, or null while none does. */
    private RedisServer masterOf(String key) throws Exception {
        String id = masterId(key);
        return id == null ? null : atAddress(nodeLine(id)[1]);
    }

    @Override
    public String readOnReplica(String key, String... command) throws Exception {
        return replicaOf(key).cliReadOnly(command);
    }

    private RedisServer replicaOf(String key) throws Exception {
        String master = Objects.requireNonNull(masterId(key), "no master serves " + key);
        for (String line : live().cli("cluster", "nodes").split("\n")) {
            String[] fields = line.split(" ");
            if (fields[2].contains("slave") && fields[3].equals(master) && !fields[2].contains("fail")) {
                return atAddress(fields[1]);
            }
        }
        throw new IllegalStateException("no replica of " + master);
    }

    @Override
    public Duration killMasterOf(String key) throws Exception {
        RedisServer master = masterOf(key);
        long killed = System.nanoTime();
        master.kill();
        await().atMost(30, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(50)).alias("a replica promoted")
                .until(() -> masterOf(key) != null && masterOf(key) != master && allSeeOk());
        return Duration.ofNanos(System.nanoTime() - killed);
    }

    /** Whether every node alive says the cluster is ok (after a failover, each learns it in turn). */
    private boolean allSeeOk() throws Exception {
        for (RedisServer node : nodes) {
            if (node.isAlive() && !node.cli("cluster", "info").contains("cluster_state:ok")) {
                return false;
            }
        }
        return true;
    }

    /** The id of the live master that serves the key's slot, or null. */
    private String masterId(String key) throws Exception {
        int slot = SlotHash.getSlot(key);
        for (String line : live().cli("cluster", "nodes").split("\n")) {
            String[] fields = line.split(" ");
            if (!fields[2].contains("master") || fields[2].contains("fail")) {
                continue;
            }
            for (int i = 8; i < fields.length; i++) {
                String[] range = fields[i].split("-");
                if (!range[0].startsWith("[") && Integer.parseInt(range[0]) <= slot
                        && slot <= Integer.parseInt(range[range.length - 1])) {
                    return fields[0];
                }
            }
        }
        return null;
    }

    private String[] nodeLine(String id) throws Exception {
        for (String line : live().cli("cluster", "nodes").split("\n")) {
            if (line.startsWith(id + " ")) {
                return line.split(" ");
            }
        }
        throw new IllegalStateException("no node " + id);
    }

    private RedisServer atAddress(String address) {
        int port = Integer.parseInt(address.substring(address.indexOf(':') + 1, address.indexOf('@')));
        return nodes.stream().filter(node -> node.port() == port).findFirst().orElseThrow();
    }

    private RedisServer live() {
        return nodes.stream().filter(RedisServer::isAlive).findFirst().orElseThrow();
    }

    private static String[] prepend(String first, String[] rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    @Override
    public void close() throws InterruptedException {
        for (RedisServer node : nodes) {
            node.close();
        }
    }
}
