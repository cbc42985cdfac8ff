package org.iotgateway.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A redis-server of the test's own on a free loopback port, as Debian's package runs it (no snapshot, no append-only
 * file): a master, a replica, a sentinel, or one with TLS.
 */
public final class RedisServer implements AutoCloseable {

    private final Process process;
    private final int port;
    /** redis-cli's options for a TLS server (its CA, a client certificate), else none. */
    private final List<String> cliTls;

    private RedisServer(Process process, int port, List<String> cliTls) {
        this.process = process;
        this.port = port;
        this.cliTls = cliTls;
    }

    /** A server on a free port; {@code arguments} are redis-server's (after a config file for a sentinel). */
    public static RedisServer start(Path log, String... arguments) throws IOException, InterruptedException {
        return start(RunningGateway.freeTcpPort(), log, arguments);
    }

    public static RedisServer start(int port, Path log, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(arguments));
        command.addAll(List.of("--port", Integer.toString(port)));
        return start(port, log, command, List.of());
    }

    /**
     * A server that speaks TLS only, with {@code pki}'s server certificate (CN and name localhost), and requires a client
     * certificate from its CA.
     */
    public static RedisServer withTls(Path log, TestPki pki) throws Exception {
        int port = RunningGateway.freeTcpPort();
        Path[] client = pki.clientCertificate("redis-cli");
        return start(port, log, List.of("--port", "0", "--tls-port", Integer.toString(port),
                        "--tls-cert-file", pki.serverPem().toString(), "--tls-key-file", pki.serverKey().toString(),
                        "--tls-ca-cert-file", pki.caPem().toString(), "--tls-auth-clients", "yes"),
                List.of("--tls", "--cacert", pki.caPem().toString(), "--cert", client[0].toString(), "--key", client[1].toString()));
    }

    private static RedisServer start(int port, Path log, List<String> arguments, List<String> cliTls) throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-server")), "needs redis-server (Debian package redis-server)");
        List<String> command = new ArrayList<>(List.of("redis-server"));
        command.addAll(arguments);
        // a replica writes the snapshot of its first sync into its folder: the log's, not the working directory
        command.addAll(List.of("--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", log.getParent().toAbsolutePath().toString()));
        Files.createDirectories(log.getParent());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        RedisServer server = new RedisServer(process, port, cliTls);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.readString(log).contains("Ready to accept connections") && !Files.readString(log).contains("monitor master")) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("redis-server " + command + " did not start:\n" + Files.readString(log));
            }
            Thread.sleep(20);
        }
        return server;
    }

    /** A sentinel watching {@code master} as {@code name}, which it calls down after a second of silence. */
    public static RedisServer sentinel(String name, RedisServer master, int quorum, Path dir) throws IOException, InterruptedException {
        int port = RunningGateway.freeTcpPort();
        Path config = dir.resolve("sentinel-" + port + ".conf");
        Files.createDirectories(dir);
        Files.writeString(config, String.join("\n",
                "sentinel monitor " + name + " 127.0.0.1 " + master.port() + " " + quorum,
                "sentinel down-after-milliseconds " + name + " 1000",
                "sentinel failover-timeout " + name + " 5000",
                "sentinel parallel-syncs " + name + " 1", ""));
        return start(port, dir.resolve("sentinel-" + port + ".log"), config.toString(), "--sentinel");
    }

    public int port() {
        return port;
    }

    /** What redis-cli prints for a command to this server. */
    public String cli(String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        line.addAll(cliTls);
        line.addAll(List.of(command));
        Process cli = new ProcessBuilder(line).redirectErrorStream(true).start();
        String output = new String(cli.getInputStream().readAllBytes());
        cli.waitFor();
        return output.strip();
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** What redis-cli prints for a read on a Cluster replica, which answers reads only after READONLY. */
    public String cliReadOnly(String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        line.addAll(cliTls);
        Process cli = new ProcessBuilder(line).redirectErrorStream(true).start();
        cli.getOutputStream().write(("READONLY\n" + String.join(" ", command) + "\n").getBytes());
        cli.getOutputStream().close();
        String output = new String(cli.getInputStream().readAllBytes());
        cli.waitFor();
        return output.strip();
    }

    /** SIGKILL: the server dies as a crashed host's would. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
