package org.iotgateway.reload;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Delivery;
import org.apache.camel.Route;
import org.awaitility.Awaitility;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.message;

/**
 * Route files edited while a meter publishes, mounted as Kubernetes mounts a ConfigMap (each file a symlink into
 * {@code ..data}, which is swapped to a new folder for every change): a valid edit of the readings route takes effect
 * within 5 s without restarting the UDP listener, an invalid one is rejected with its line while traffic goes on, and
 * every reading acknowledged with PUBACK rc 0 reaches the queue.
 */
class RouteReloadTest {

    private static final String READINGS = "readings-to-rabbitmq.camel.yaml";
    private static final String LISTENER = "udp-listener.camel.yaml";
    private static final String FIRST_STEP = "      steps:\n";

    @TempDir
    Path mount;
    private int version;

    /** Writes a new ConfigMap version and swaps {@code ..data} to it, as the kubelet does. */
    private void publishConfigMap(String readingsRoute) throws IOException {
        Path group = mount.resolve("mqttsn");
        Path next = group.resolve("..v" + ++version);
        Files.createDirectories(next);
        Files.writeString(next.resolve(READINGS), readingsRoute);
        Files.copy(Path.of("routes/mqttsn", LISTENER), next.resolve(LISTENER));
        Path swap = group.resolve("..data_tmp");
        Files.deleteIfExists(swap);
        Files.createSymbolicLink(swap, next.getFileName());
        Files.move(swap, group.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        for (String file : new String[] {READINGS, LISTENER}) {
            if (!Files.exists(group.resolve(file), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(group.resolve(file), Path.of("..data", file));
            }
        }
    }

    /** The shipped readings route with a header step first. */
    private static String readingsWith(String step) throws IOException {
        String shipped = Files.readString(Path.of("routes/mqttsn", READINGS));
        int at = shipped.indexOf(FIRST_STEP, shipped.indexOf("direct:mqttsn-readings")) + FIRST_STEP.length();
        return shipped.substring(0, at) + step + shipped.substring(at);
    }

    private static String editedHeader(String value) {
        return "        - setHeader:\n            name: edited\n            constant: \"" + value + "\"\n";
    }

    @Test
    void should_apply_a_valid_edit_reject_an_invalid_one_and_lose_no_acknowledged_reading() throws Exception {
        Files.createDirectories(mount.resolve("mqttsn"));
        publishConfigMap(readingsWith(editedHeader("v1")));
        String queueName = "reload-" + UUID.randomUUID();
        Set<String> acked = ConcurrentHashMap.newKeySet();
        Map<String, String> delivered = new ConcurrentHashMap<>();
        AtomicBoolean publishing = new AtomicBoolean(true);
        try (RunningGateway gateway = RunningGateway.start(Map.of("gateway.routes-dir", mount.toString(),
                "gateway.routes-reload-interval-millis", "200", "mqttsn.flood-limit", "100000"));
             UdpClient device = new UdpClient(gateway.udpPort());
             AmqpQueue queue = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "reload.#", queueName)) {
            assertThat(device.exchange(message("04 04 01 00 3c", "reload"))).isEqualTo("03 05 00");
            assertThat(device.exchange(message("0a 00 00 00 01", "reload/readings"))).isEqualTo("07 0b 00 01 00 01 00");
            Thread meter = new Thread(() -> publish(device, acked, publishing), "meter");
            meter.start();
            Thread consumer = new Thread(() -> consume(queue, delivered, publishing), "consumer");
            consumer.start();
            Route listener = gateway.context().getRoute("mqttsn-udp-listener");
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> delivered.containsValue("v1"));

            long swapped = System.nanoTime();
            publishConfigMap(readingsWith(editedHeader("v2")));
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> delivered.containsValue("v2"));
            System.out.printf("valid edit applied %d ms after the swap%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - swapped));

            String broken = readingsWith(editedHeader("v3") + "        - setBody:\n            simple: \"${header.foo\"\n");
            long brokenLine = broken.substring(0, broken.indexOf("- setBody:")).chars().filter(c -> c == '\n').count() + 1;
            publishConfigMap(broken);
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> routeFilesCheck(gateway).path("status").asText().equals("DOWN"));
            // Camel's health JSON writes '/' as '\\/'
            assertThat(routeFilesCheck(gateway).path("message").asText().replace("\\/", "/")).startsWith("route file edits rejected (the routes from"
                    + " before them run): ").contains("mqttsn/" + READINGS + ":" + brokenLine + ": route 'mqttsn-readings-to-rabbitmq', step"
                    + " SetBody[simple{${header.foo}]: expected symbol functionEnd but was eol");
            assertThat(gateway.metrics()).contains("gateway_route_files_rejected 1.0",
                    "gateway_route_reloads_total{result=\"rejected\"} 1.0");
            int before = acked.size();
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> acked.size() > before + 50);
            assertThat(delivered).doesNotContainValue("v3");

            publishConfigMap(readingsWith(editedHeader("v4")));
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> delivered.containsValue("v4"));
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> routeFilesCheck(gateway).path("status").asText().equals("UP"));
            assertThat(gateway.metrics()).contains("gateway_route_files_rejected 0.0",
                    "gateway_route_reloads_total{result=\"applied\"} 2.0");

            assertThat(gateway.context().getRoute("mqttsn-udp-listener")).as("the UDP listener is the same route").isSameAs(listener);
            publishing.set(false);
            meter.join(5000);
            Awaitility.await().atMost(10, TimeUnit.SECONDS).until(() -> delivered.keySet().containsAll(acked));
            consumer.join(5000);
            assertThat(acked).hasSizeGreaterThan(200);
        }
    }

    @Test
    void should_replace_a_file_with_its_own_mqtt_connection_add_a_new_file_refuse_a_taken_id_and_drop_a_deleted_file()
            throws Exception {
        Path live = mount.resolve("live");
        Files.createDirectories(live);
        Path file = live.resolve("mqtt-to-websocket.camel.yaml");
        Files.copy(Path.of("routes/live/mqtt-to-websocket.camel.yaml"), file);
        try (RunningGateway gateway = RunningGateway.start(Map.of("gateway.routes-dir", mount.toString(),
                "gateway.routes-reload-interval-millis", "200"))) {
            Object before = gateway.awaitMqttReady("liveMqtt");
            Files.writeString(file, Files.readString(file) + "\n# edited in place, as an editor saves\n");
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> gateway.mqtt("liveMqtt") != before);
            gateway.awaitMqttReady("liveMqtt");
            Awaitility.await().atMost(5, TimeUnit.SECONDS)
                    .until(() -> gateway.metrics().contains("mqtt_connected{connection=\"liveMqtt\"} 1.0"));
            assertThat(gateway.readiness()).contains("UP");

            Path added = live.resolve("heartbeat.camel.yaml");
            Files.writeString(added, "- route:\n    id: live-heartbeat\n    from:\n      uri: timer:heartbeat\n"
                    + "      parameters:\n        period: 60000\n      steps:\n        - log: alive\n");
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> gateway.context().getRoute("live-heartbeat") != null);
            Files.writeString(added, Files.readString(added).replace("live-heartbeat", "live-mqtt-to-websocket"));
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> gateway.metrics().contains("gateway_route_files_rejected 1.0"));
            assertThat(gateway.context().getRoute("live-heartbeat")).as("a rejected file keeps its routes").isNotNull();
            Files.delete(added);
            Awaitility.await().atMost(5, TimeUnit.SECONDS).until(() -> gateway.context().getRoute("live-heartbeat") == null);
            assertThat(gateway.metrics()).contains("gateway_route_files_rejected 0.0");
            assertThat(gateway.context().getRoute("live-mqtt-to-websocket")).isNotNull();
        }
    }

    /** QoS 1 readings one after the other, each waiting for its PUBACK; those answered rc 0 are remembered. */
    private static void publish(UdpClient device, Set<String> acked, AtomicBoolean publishing) {
        try {
            for (int msgId = 1; publishing.get(); msgId = msgId % 65535 + 1) {
                String payload = "reading-" + UUID.randomUUID();
                device.send(message(String.format("0c 20 00 01 %02x %02x", msgId >> 8, msgId & 0xff), payload));
                String reply = device.receive(2000);
                if (reply != null && reply.endsWith("00")) {
                    acked.add(payload);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every delivered reading with its "edited" header. */
    private static void consume(AmqpQueue queue, Map<String, String> delivered, AtomicBoolean publishing) {
        try {
            for (Delivery message = queue.next(Duration.ofSeconds(5)); message != null || publishing.get();
                    message = queue.next(Duration.ofSeconds(2))) {
                if (message != null) {
                    Object edited = message.getProperties().getHeaders().get("edited");
                    delivered.put(new String(message.getBody(), StandardCharsets.US_ASCII), String.valueOf(edited));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The route-files check on /observe/health (listed there only while DOWN: then UP stands for it). */
    private static JsonNode routeFilesCheck(RunningGateway gateway) throws IOException, InterruptedException {
        JsonNode health = new ObjectMapper().readTree(HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.managementPort() + "/observe/health")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode check : health.path("checks")) {
            if (check.path("name").asText().equals("route-files")) {
                return check;
            }
        }
        return new ObjectMapper().createObjectNode().put("status", "UP");
    }
}
