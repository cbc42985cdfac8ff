package org.iotgateway.testing;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The packaged application (target/iot-gateway.jar) as a process of its own, started as a container would start it:
 * the project's application.properties and routes/, settings as environment variables, the log in a file.
 */
public final class GatewayProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final Process process;
    private final String managementHost;
    private final Path log;

    private GatewayProcess(Process process, String managementHost, Path log) {
        this.process = process;
        this.managementHost = managementHost;
        this.log = log;
    }

    /**
     * Starts the jar behind {@code prefix} (a command such as {@code ip netns exec …}, or none) with {@code environment}
     * added to the JVM's; health and metrics on port 9876 of {@code managementHost}.
     */
    public static GatewayProcess start(List<String> prefix, String managementHost, Map<String, String> environment, Path log)
            throws IOException {
        Path project = Path.of("").toAbsolutePath();
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-jar", project.resolve("target/iot-gateway.jar").toString()));
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("CAMEL_MAIN_PROPERTY_PLACEHOLDER_LOCATION", "file:" + project.resolve("application.properties"));
        builder.environment().put("GATEWAY_ROUTES_DIR", project.resolve("routes").toString());
        builder.environment().put("GATEWAY_ROUTES_RELOAD_ENABLED", "false");
        builder.environment().put("GATEWAY_MANAGEMENT_HOST", managementHost);
        builder.environment().put("GATEWAY_MANAGEMENT_PORT", "9876");
        builder.environment().putAll(environment);
        builder.directory(new File(log.getParent().toString()));
        return new GatewayProcess(builder.start(), managementHost, log);
    }

    /** Waits until /observe/health/ready answers 200; fails with the log's end when it does not within the timeout. */
    public GatewayProcess awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the gateway exited with " + process.exitValue() + ":\n" + tail());
            }
            try {
                if (get("/observe/health/ready").statusCode() == 200) {
                    return this;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("the gateway was not ready within " + timeout + ":\n" + tail());
    }

    public long pid() {
        return process.pid();
    }

    public String metrics() throws IOException, InterruptedException {
        return get("/observe/metrics").body();
    }

    /** The sum of a metric's samples whose line contains every one of {@code labels}. */
    public double metric(String name, String... labels) throws IOException, InterruptedException {
        return Metrics.sum(metrics(), name, labels);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://" + managementHost + ":9876" + path))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** SIGKILL: the process ends at once, as a node or container that dies. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    public String tail() throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }
}
