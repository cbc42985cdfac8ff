package org.iotgateway.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A RabbitMQ cluster of the test's own, nodes on this machine as .ci/services runs one (Debian's rabbitmq-server, own
 * ports, data and log folders, an epmd of their own, this user's Erlang cookie): the first node starts it, the others
 * join it.
 */
public final class RabbitMqCluster implements AutoCloseable {

    private static final String SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private static final String CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl";

    private final Path dir;
    private final int epmdPort;
    private final List<Node> nodes = new ArrayList<>();

    /** A node: its name, AMQP port, AMQP over TLS port (0: none) and process. */
    public record Node(String name, int port, int tlsPort, Process process) {
    }

    public RabbitMqCluster(int size, Path dir) throws Exception {
        this(size, dir, null);
    }

    /**
     * One node that also listens for AMQP over TLS with {@code pki}'s server certificate (CN localhost) and requires a
     * client certificate from its CA.
     */
    public static RabbitMqCluster withTls(Path dir, TestPki pki) throws Exception {
        return new RabbitMqCluster(1, dir, pki);
    }

    private RabbitMqCluster(int size, Path dir, TestPki pki) throws Exception {
        assumeTrue(Files.isExecutable(Path.of(SERVER)), "needs rabbitmq-server (Debian package), as .ci/run installs");
        this.dir = dir.toAbsolutePath();
        // every port at once: one asked after another was closed may be the same number again, and the nodes bind theirs
        // only as they boot
        int[] ports = freePorts(1 + 3 * size);
        this.epmdPort = ports[0];
        try {
            String suffix = Long.toString(ProcessHandle.current().pid());
            for (int i = 0; i < size; i++) {
                nodes.add(startNode("cluster" + i + "-" + suffix + "@localhost", i, pki, Arrays.copyOfRange(ports, 1 + 3 * i, 4 + 3 * i)));
            }
            for (Node node : nodes) {
                awaitStartup(node);
            }
            for (Node node : nodes.subList(1, size)) {
                ctl(node, "stop_app");
                ctl(node, "join_cluster", nodes.get(0).name());
                ctl(node, "start_app");
            }
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** await_startup fails at once while the node has not registered with epmd yet: it is asked again until then. */
    private void awaitStartup(Node node) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            try {
                ctl(node, "await_startup");
                return;
            } catch (IllegalStateException notYet) {
                if (!node.process().isAlive() || System.nanoTime() > deadline) {
                    throw notYet;
                }
                Thread.sleep(500);
            }
        }
    }

    /** {@code ports}: AMQP, distribution, AMQP over TLS. */
    private Node startNode(String name, int index, TestPki pki, int[] ports) throws IOException {
        Path base = dir.resolve("node" + index);
        Files.createDirectories(base);
        Path config = base.resolve("rabbitmq");
        int port = ports[0];
        int tlsPort = pki == null ? 0 : ports[2];
        String tls = pki == null ? "" : String.join("\n", "listeners.ssl.default = " + tlsPort,
                "ssl_options.cacertfile = " + pki.caPem().toAbsolutePath(), "ssl_options.certfile = " + pki.serverPem().toAbsolutePath(),
                "ssl_options.keyfile = " + pki.serverKey().toAbsolutePath(), "ssl_options.verify = verify_peer",
                "ssl_options.fail_if_no_peer_cert = true", "");
        Files.writeString(config.resolveSibling("rabbitmq.conf"), "loopback_users = none\n" + tls);
        Files.writeString(base.resolve("enabled_plugins"), "[].\n");
        ProcessBuilder builder = new ProcessBuilder(SERVER).redirectErrorStream(true)
                .redirectOutput(base.resolve("server.out").toFile());
        Map<String, String> environment = builder.environment();
        environment.putAll(nodeEnvironment(name));
        environment.put("RABBITMQ_NODE_PORT", Integer.toString(port));
        environment.put("RABBITMQ_DIST_PORT", Integer.toString(ports[1]));
        environment.put("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1");
        environment.put("RABBITMQ_MNESIA_BASE", base.resolve("mnesia").toString());
        environment.put("RABBITMQ_LOG_BASE", base.resolve("log").toString());
        environment.put("RABBITMQ_ENABLED_PLUGINS_FILE", base.resolve("enabled_plugins").toString());
        environment.put("RABBITMQ_CONFIG_FILE", config.toString());
        // as .ci/services: schedulers that do not spin while idle, on a machine the test shares
        environment.put("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "+sbwt none +sbwtdcpu none +sbwtdio none");
        return new Node(name, port, tlsPort, builder.start());
    }

    private Map<String, String> nodeEnvironment(String name) {
        return Map.of("ERL_EPMD_PORT", Integer.toString(epmdPort), "RABBITMQ_NODENAME", name);
    }

    public List<Node> nodes() {
        return nodes;
    }

    /** kombu's failover list of the nodes, as MQTTSN_AMQP_CONNECTION_STRING takes it. */
    public String kombuUrl() {
        return nodes.stream().map(node -> "amqp://guest:guest@127.0.0.1:" + node.port() + "//").collect(Collectors.joining(";"));
    }

    /** One node's URL. */
    public String url(Node node) {
        return "amqp://guest:guest@127.0.0.1:" + node.port() + "//";
    }

    /** What rabbitmqctl prints for a command to that node; fails when it exits with an error. */
    public String ctl(Node node, String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of(CTL, "-n", node.name()));
        line.addAll(List.of(command));
        ProcessBuilder builder = new ProcessBuilder(line).redirectErrorStream(true);
        builder.environment().putAll(nodeEnvironment(node.name()));
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", line) + " failed: " + output);
        }
        return output;
    }

    /** Stops the node as an operator or a host shutdown would (rabbitmqctl shutdown): its clients lose their connection. */
    public void stop(Node node) throws IOException, InterruptedException {
        ctl(node, "shutdown");
        node.process().waitFor(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        for (Node node : nodes) {
            if (node.process().isAlive()) {
                try {
                    ctl(node, "shutdown");
                } catch (IllegalStateException notRunning) {
                    node.process().destroy();
                }
            }
        }
        for (Node node : nodes) {
            if (!node.process().waitFor(30, TimeUnit.SECONDS)) {
                node.process().destroyForcibly();
            }
        }
        new ProcessBuilder("epmd", "-port", Integer.toString(epmdPort), "-kill").start().waitFor(10, TimeUnit.SECONDS);
    }

    private static int[] freePorts(int count) throws IOException {
        ServerSocket[] sockets = new ServerSocket[count];
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                sockets[i] = new ServerSocket(0);
                ports[i] = sockets[i].getLocalPort();
            }
            return ports;
        } finally {
            for (ServerSocket socket : sockets) {
                if (socket != null) {
                    socket.close();
                }
            }
        }
    }
}
