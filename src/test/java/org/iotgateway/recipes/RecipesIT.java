package org.iotgateway.recipes;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.iotgateway.channels.DjangoChannelsApp;
import org.iotgateway.inverter.JwtCheckingBroker;
import org.iotgateway.inverter.SolarGatewayStub;
import org.iotgateway.onem2m.StubCse;
import org.iotgateway.rabbitmq.AmqpUrl;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.TestPki;
import org.iotgateway.testing.UdpClient;
import org.iotgateway.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.iotgateway.testing.Vectors.message;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Every recipe of docs/recipes.md, applied as written there, as a live edit of the mounted route files of the running
 * packaged gateway ({@code java -jar target/iot-gateway.jar}, the class path of the image and Camel K) on the real
 * RabbitMQ, Redis and MQTT broker named by IT_AMQP_URL, IT_VALKEY_URL and IT_MQTT_URL; each test observes the
 * recipe's effect on the wire, in files, or in the log.
 */
class RecipesIT {

    private static final Pattern RECIPE = Pattern.compile(
            "<!-- recipe (\\S+): (\\S+), (insert before the step|replace the step|append)(?: \"(.+?)\")? -->\\n```yaml\\n(.*?)```",
            Pattern.DOTALL);
    private static final Path PROJECT = Path.of("").toAbsolutePath();
    private static final List<String> GROUPS = List.of("mqttsn", "live", "inverter", "onem2m", "channels");
    private static final String CHANNEL = "recipes-" + System.nanoTime();
    private static final String CSE_ID = "recipes-cse-" + System.nanoTime();

    private static Path mount;
    private static Path log;
    private static Process gateway;
    private static int udpPort;
    private static int livePort;
    private static int managementPort;
    private static HttpServer webhook;
    private static final BlockingQueue<HttpExchange> webhookCalls = new LinkedBlockingQueue<>();
    private static final BlockingQueue<String> groupCopies = new LinkedBlockingQueue<>();
    private static TestPki pki;
    private static SolarGatewayStub solarGateway;
    private static JwtCheckingBroker cloudBroker;
    private static MqttTestClient cloud;
    private static BlockingQueue<MqttTestClient.Received> modbusResponses;
    private static StubCse cse;
    /** The meters of the test running, closed after it. */
    private static final List<UdpClient> meters = new ArrayList<>();
    private static final Map<String, String> services = Map.of(
            "amqp", String.valueOf(System.getenv("IT_AMQP_URL")),
            "valkey", String.valueOf(System.getenv("IT_VALKEY_URL")),
            "mqtt", String.valueOf(System.getenv("IT_MQTT_URL")));

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(System.getenv("IT_AMQP_URL") != null && System.getenv("IT_VALKEY_URL") != null
                && System.getenv("IT_MQTT_URL") != null, "the packaged gateway needs real services: .ci/run sets IT_*_URL");
        Path jar = PROJECT.resolve("target/iot-gateway.jar");
        assertThat(jar).as("the packaged application (mvn package)").exists();
        mount = Files.createTempDirectory("recipes");
        for (String group : GROUPS) {
            copyFolder(PROJECT.resolve("routes").resolve(group), mount.resolve("routes").resolve(group));
        }
        Files.createDirectories(mount.resolve("readings"));
        Files.createDirectories(mount.resolve("dead-letter"));
        webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/readings", call -> {
            call.getRequestBody().readAllBytes();
            webhookCalls.add(call);
            call.sendResponseHeaders(204, -1);
            call.close();
        });
        webhook.createContext("/channels", call -> {
            groupCopies.add(new String(call.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            call.sendResponseHeaders(204, -1);
            call.close();
        });
        webhook.start();
        // the inverter's outside world: the solar gateway's web API, and its cloud broker (TLS, JWT checked)
        pki = TestPki.create(Files.createDirectories(mount.resolve("pki")));
        solarGateway = new SolarGatewayStub(RunningGateway.freeTcpPort());
        int cloudPort = RunningGateway.freeTcpPort();
        cloudBroker = new JwtCheckingBroker(mount.resolve("cloud-broker"), cloudPort, pki, solarGateway::rejection);
        cloud = new MqttTestClient("ssl://localhost:" + cloudPort, JwtCheckingBroker.CLOUD_USER,
                JwtCheckingBroker.CLOUD_PASSWORD, pki.clientSocketFactory());
        modbusResponses = cloud.subscribe("iamcat/modbus/response");
        // the oneM2M binding's CSE, on HTTP
        cse = new StubCse(RunningGateway.freeTcpPort());
        udpPort = RunningGateway.freeUdpPort();
        livePort = RunningGateway.freeTcpPort();
        managementPort = RunningGateway.freeTcpPort();
        log = mount.resolve("gateway.log");
        ProcessBuilder java = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString()).directory(mount.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = java.environment();
        env.put("GATEWAY_ROUTES_DIR", mount.resolve("routes").toString());
        env.put("MQTTSN_PORT", String.valueOf(udpPort));
        env.put("MQTTSN_HOST", "127.0.0.1");
        env.put("LIVE_PORT", String.valueOf(livePort));
        env.put("LIVE_HOST", "127.0.0.1");
        env.put("GATEWAY_MANAGEMENT_PORT", String.valueOf(managementPort));
        env.put("MQTTSN_AMQP_CONNECTION_STRING", services.get("amqp"));
        env.put("MQTTSN_VALKEY_CONNECTION_STRING", services.get("valkey"));
        env.put("LIVE_MQTT_URL", services.get("mqtt"));
        env.put("CHANNELS_ENABLED", "true");
        env.put("CHANNELS_REDIS_URL", services.get("valkey"));
        env.put("CHANNELS_MQTT_URL", services.get("mqtt"));
        env.put("MQTT_CHANNEL_NAME", CHANNEL);
        env.put("GROUP_WEBHOOK", "http://127.0.0.1:" + webhook.getAddress().getPort() + "/channels");
        env.put("ONEM2M_ENABLED", "true");
        env.put("ONEM2M_MQTT_URL", services.get("mqtt"));
        env.put("ONEM2M_CSE_ID", CSE_ID);
        env.put("ONEM2M_CSE_URL", cse.url());
        env.put("ONEM2M_HTTP_HOST", "127.0.0.1");
        env.put("ONEM2M_HTTP_PORT", String.valueOf(RunningGateway.freeTcpPort()));
        env.put("INVERTER_ENABLED", "true");
        env.put("MQTT_BROKER_HOST", "localhost");
        env.put("MQTT_BROKER_PORT", String.valueOf(cloudPort));
        env.put("MQTT_ROOT_CA", pki.caPem().toString());
        env.put("WEB_CONTAINER_HOST", "127.0.0.1");
        env.put("WEB_CONTAINER_PORT", solarGateway.url().replaceAll(".*:", ""));
        // what the recipes read with {{env:...}}
        env.put("READINGS_COPY_DIR", mount.resolve("readings").toString());
        env.put("DEAD_LETTER_DIR", mount.resolve("dead-letter").toString());
        // the default virtual host, in the RabbitMQ client's URI form (no path) rather than kombu's trailing "//"
        env.put("ALARMS_AMQP_URL", services.get("amqp").replaceAll("/+$", ""));
        env.put("READINGS_PER_SECOND", "5");
        env.put("KAFKA_BROKERS", "127.0.0.1:" + RunningGateway.freeTcpPort());
        env.put("READINGS_WEBHOOK", "http://127.0.0.1:" + webhook.getAddress().getPort() + "/readings");
        gateway = java.start();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).until(() -> {
            assertThat(gateway.isAlive()).as("the packaged gateway runs; its log:\n" + logText()).isTrue();
            return ready(managementPort);
        });
    }

    @AfterAll
    static void stop() throws Exception {
        if (gateway != null) {
            gateway.destroy();
            gateway.waitFor(30, TimeUnit.SECONDS);
        }
        if (webhook != null) {
            webhook.stop(0);
        }
        if (cloud != null) {
            cloud.close();
        }
        if (cloudBroker != null) {
            cloudBroker.close();
        }
        if (solarGateway != null) {
            solarGateway.close();
        }
        if (cse != null) {
            cse.close();
        }
    }

    /** Each recipe starts from the shipped route files. */
    @AfterEach
    void restoreShippedRoutes() throws Exception {
        meters.forEach(UdpClient::close);
        meters.clear();
        for (String file : List.of("routes/mqttsn/readings-to-rabbitmq.camel.yaml", "routes/live/mqtt-to-websocket.camel.yaml",
                "routes/inverter/modbus-bridge.camel.yaml", "routes/onem2m/mqtt-binding.camel.yaml",
                "routes/channels/mqtt-worker.camel.yaml")) {
            String shipped = Files.readString(PROJECT.resolve(file));
            if (!Files.readString(mount.resolve(file)).equals(shipped)) {
                writeAndAwaitApplied(file, shipped);
            }
        }
    }

    @Test
    void tee_to_file_keeps_a_copy_of_every_reading_in_a_folder_per_device() throws Exception {
        apply("tee-to-file");
        Meter meter = new Meter();
        assertThat(meter.publish("tee/one", "copied reading")).isEqualTo(0);
        Path folder = mount.resolve("readings").resolve(meter.clientId);
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(folder).isDirectory());
        try (Stream<Path> files = Files.list(folder)) {
            assertThat(files.map(RecipesIT::readUnchecked).toList()).containsExactly("copied reading");
        }
    }

    @Test
    void second_exchange_gets_the_readings_of_a_topic_prefix() throws Exception {
        try (AmqpQueue alarms = new AmqpQueue(services.get("amqp"), "alarms", "meter-alarm", "recipe-alarms-" + UUID.randomUUID());
             AmqpQueue readings = new AmqpQueue(services.get("amqp"), "mqtt-sn", "alarm.#", "recipe-readings-" + UUID.randomUUID())) {
            apply("second-exchange");
            Meter meter = new Meter();
            assertThat(meter.publish("alarm/fire", "smoke")).isEqualTo(0);
            assertThat(meter.publish("meter/energy", "42")).isEqualTo(0);
            assertThat(new String(alarms.next(Duration.ofSeconds(5)).getBody(), StandardCharsets.UTF_8)).isEqualTo("smoke");
            assertThat(alarms.next(Duration.ofMillis(500))).as("a reading outside the prefix").isNull();
            assertThat(new String(readings.next(Duration.ofSeconds(5)).getBody(), StandardCharsets.UTF_8)).isEqualTo("smoke");
        }
    }

    @Test
    void kafka_copy_is_accepted_and_meters_are_still_answered_without_a_kafka_broker() throws Exception {
        apply("kafka");
        assertThat(new Meter().publish("kafka/one", "to kafka")).isEqualTo(0);
    }

    @Test
    void dead_letter_keeps_a_refused_reading_and_answers_congestion() throws Exception {
        // a queue that refuses every message: RabbitMQ nacks readings routed to it
        String queue = "recipe-refusing-" + UUID.randomUUID();
        try (Connection connection = AmqpUrl.parse(services.get("amqp")).connectionFactory().newConnection("recipe test")) {
            Channel channel = connection.createChannel();
            channel.exchangeDeclare("mqtt-sn", "topic", true);
            channel.queueDeclare(queue, false, false, true, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
            channel.queueBind(queue, "mqtt-sn", "refused.#");
            apply("dead-letter");
            Meter meter = new Meter();
            assertThat(meter.publish("refused/one", "nacked reading")).as("congestion: the device retries").isEqualTo(1);
            assertThat(meter.publish("accepted/one", "confirmed reading")).isEqualTo(0);
            try (Stream<Path> files = Files.list(mount.resolve("dead-letter"))) {
                assertThat(files.filter(file -> file.getFileName().toString().startsWith(meter.clientId)).map(RecipesIT::readUnchecked))
                        .containsExactly("nacked reading");
            }
            channel.queueDelete(queue);
        }
    }

    @Test
    void throttle_spreads_a_burst_over_time_and_answers_every_reading() throws Exception {
        apply("throttle");
        Meter meter = new Meter();
        int topicId = meter.register("throttled/one");
        long start = System.nanoTime();
        for (int msgId = 1; msgId <= 12; msgId++) {
            meter.device.send(meter.publishDatagram(topicId, msgId, "burst " + msgId));
        }
        List<String> answers = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            answers.add(meter.device.receive(10_000));
        }
        long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
        assertThat(answers).allSatisfy(answer -> assertThat(answer).startsWith("07 0d").endsWith(" 00"));
        assertThat(elapsedMillis).as("12 readings at 5 a second").isGreaterThanOrEqualTo(1500);
    }

    @Test
    void throughput_log_counts_readings_per_period() throws Exception {
        apply("throughput-log");
        assertThat(new Meter().publish("counted/one", "counted")).isEqualTo(0);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(logText()).containsPattern("meter-readings.*Received: \\d+ new messages"));
    }

    @Test
    void hidden_live_topics_never_reach_a_browser() throws Exception {
        apply("hide-live-topics");
        try (WsClient browser = WsClient.connect(URI.create("ws://127.0.0.1:" + livePort + "/ws"));
             MqttTestClient broker = new MqttTestClient(services.get("mqtt"))) {
            broker.publish("debug/recipe", "hidden".getBytes(StandardCharsets.UTF_8), 1, false);
            broker.publish("sensor/recipe/secret", "hidden".getBytes(StandardCharsets.UTF_8), 1, false);
            broker.publish("sensor/recipe", "shown".getBytes(StandardCharsets.UTF_8), 1, false);
            // one publisher, one subscriber: the broker and the feed keep the order, so the hidden ones would have come first
            await().atMost(Duration.ofSeconds(5)).until(() -> browser.received().stream().anyMatch(m -> m.contains("sensor/recipe\"")));
            assertThat(browser.received()).noneMatch(frame -> frame.contains("hidden") || frame.contains("debug/recipe"));
        }
    }

    @Test
    void http_post_sends_json_readings_to_a_web_service() throws Exception {
        apply("http-post");
        Meter meter = new Meter();
        assertThat(meter.publish("mr/" + meter.clientId + "/standard/json", "{\"kind\":\"energy\"}")).isEqualTo(0);
        assertThat(meter.publish("mr/" + meter.clientId + "/standard/raw", "not posted")).isEqualTo(0);
        HttpExchange call = webhookCalls.poll(5, TimeUnit.SECONDS);
        assertThat(call).as("the web service's request").isNotNull();
        assertThat(call.getRequestMethod()).isEqualTo("POST");
        assertThat(call.getRequestHeaders().getFirst("client_id")).isEqualTo(meter.clientId);
        assertThat(webhookCalls.poll(500, TimeUnit.MILLISECONDS)).as("a reading outside the filter").isNull();
    }

    @Test
    void inverter_reshape_answers_reads_with_the_register_and_value_only() throws Exception {
        apply("inverter-reshape");
        // the edited file brings its own broker connection: it logs in with a fresh JWT and subscribes
        await().atMost(Duration.ofSeconds(20)).until(() -> ready(managementPort));
        modbusResponses.clear();
        cloud.publish("iamcat/modbus/request", "{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":10056}"
                .getBytes(StandardCharsets.UTF_8), 1, false);
        MqttTestClient.Received read = modbusResponses.poll(10, TimeUnit.SECONDS);
        assertThat(read).as("the answer to a read").isNotNull();
        assertThat(read.text()).endsWith(",\"response\":{\"register\":10056,\"value\":50.0}}");
        cloud.publish("iamcat/modbus/request", "{\"function_code\":16,\"device_id\":\"A2332407312\",\"address\":33207,\"values\":170}"
                .getBytes(StandardCharsets.UTF_8), 1, false);
        MqttTestClient.Received write = modbusResponses.poll(10, TimeUnit.SECONDS);
        assertThat(write).as("the answer to a write").isNotNull();
        assertThat(write.text()).endsWith(",\"response\":{\"address\":33207,\"success\":true,\"values\":[170]}}");
    }

    @Test
    void onem2m_log_rqi_logs_each_request_with_its_request_id() throws Exception {
        apply("onem2m-log-rqi");
        await().atMost(Duration.ofSeconds(20)).until(() -> ready(managementPort));
        try (MqttTestClient ae = new MqttTestClient(services.get("mqtt"))) {
            BlockingQueue<MqttTestClient.Received> responses = ae.subscribe("/oneM2M/resp/CRecipeAE/#");
            ae.publish("/oneM2M/req/CRecipeAE/" + CSE_ID + "/json", ("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CRecipeAE\","
                    + "\"rqi\":\"recipe-rqi-1\",\"rvi\":\"3\"}").getBytes(StandardCharsets.UTF_8), 1, false);
            MqttTestClient.Received response = responses.poll(10, TimeUnit.SECONDS);
            assertThat(response).as("the response primitive").isNotNull();
            assertThat(response.text()).contains("\"rqi\":\"recipe-rqi-1\"");
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(logText())
                .containsPattern("onem2m-requests.*oneM2M request recipe-rqi-1 from CRecipeAE: GET " + Pattern.quote(cse.url()) + "/onem2m"));
    }

    @Test
    void channels_group_copy_posts_a_groups_messages_to_a_web_service() throws Exception {
        apply("channels-group-copy");
        await().atMost(Duration.ofSeconds(20)).until(() -> ready(managementPort));
        try (DjangoChannelsApp app = new DjangoChannelsApp(services.get("valkey"));
             MqttTestClient broker = new MqttTestClient(services.get("mqtt"))) {
            app.join("dashboard");
            app.send(CHANNEL, "{\"type\":\"mqtt.subscribe\",\"topic\":\"recipe/channels/+\",\"group\":\"dashboard\"}");
            app.send(CHANNEL, "{\"type\":\"mqtt.subscribe\",\"topic\":\"recipe/channels/+\",\"group\":\"kitchen\"}");
            // the worker subscribes on the broker meanwhile: published until the first copy comes
            String copy = null;
            for (int attempt = 0; attempt < 20 && copy == null; attempt++) {
                broker.publish("recipe/channels/one", "21.5".getBytes(StandardCharsets.UTF_8), 1, false);
                copy = groupCopies.poll(500, TimeUnit.MILLISECONDS);
            }
            assertThat(copy).as("the web service's copy").isNotNull();
            JsonNode event = new ObjectMapper().readTree(copy);
            assertThat(event.path("type").asText()).isEqualTo("mqtt.message");
            assertThat(event.path("message").path("topic").asText()).isEqualTo("recipe/channels/one");
            groupCopies.clear();
            broker.publish("recipe/channels/two", "22".getBytes(StandardCharsets.UTF_8), 1, false);
            String second = groupCopies.poll(5, TimeUnit.SECONDS);
            assertThat(second).as("one copy per message, for the dashboard group only").contains("recipe/channels/two");
            assertThat(groupCopies.poll(500, TimeUnit.MILLISECONDS)).isNull();
        }
    }

    /** Applies every part of the named recipe to the mounted route files, and waits until the gateway applied it. */
    private static void apply(String name) throws Exception {
        Matcher recipe = RECIPE.matcher(Files.readString(PROJECT.resolve("docs/recipes.md")));
        Map<String, String> edited = new LinkedHashMap<>();
        while (recipe.find()) {
            if (!recipe.group(1).equals(name)) {
                continue;
            }
            String file = recipe.group(2);
            String text = edited.computeIfAbsent(file, shipped -> readUnchecked(PROJECT.resolve(shipped)));
            edited.put(file, edit(text, recipe.group(3), recipe.group(4), recipe.group(5)));
        }
        assertThat(edited).as("recipe " + name + " in docs/recipes.md").isNotEmpty();
        for (Map.Entry<String, String> file : edited.entrySet()) {
            writeAndAwaitApplied(file.getKey(), file.getValue());
        }
    }

    /** The file with the snippet inserted before, or in place of, the step whose text starts with the anchor, or appended. */
    static String edit(String text, String how, String anchor, String snippet) {
        if (how.equals("append")) {
            return text + (text.endsWith("\n") ? "\n" : "\n\n") + snippet;
        }
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        for (int start = 0; start < lines.size(); start++) {
            String line = lines.get(start);
            if (!line.strip().startsWith("- ")) {
                continue;
            }
            int indent = line.indexOf('-');
            int end = start + 1;
            while (end < lines.size() && (lines.get(end).isBlank() || lines.get(end).indexOf(lines.get(end).strip()) > indent)) {
                end++;
            }
            String step = String.join(" ", lines.subList(start, end).stream().map(String::strip).toList());
            if (step.startsWith(anchor)) {
                // the comment lines just above a step are the step's
                while (start > 0 && lines.get(start - 1).strip().startsWith("#") && lines.get(start - 1).indexOf('#') == indent) {
                    start--;
                }
                List<String> inserted = List.of(snippet.stripTrailing().split("\n"));
                if (how.equals("replace the step")) {
                    lines.subList(start, end).clear();
                }
                lines.addAll(start, inserted);
                return String.join("\n", lines);
            }
        }
        throw new AssertionError("no step starting with '" + anchor + "'");
    }

    private static void writeAndAwaitApplied(String file, String text) throws IOException {
        String applied = "Route file " + file + " applied";
        String rejected = "Route file " + file + " rejected";
        long appliedBefore = count(applied);
        long rejectedBefore = count(rejected);
        // written whole and moved into place, as editors and ConfigMap updates do: the gateway never reads half a file
        Path written = Files.writeString(mount.resolve(file + ".new"), text);
        Files.move(written, mount.resolve(file), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        // a route's in-flight exchanges may hold its replacement for up to Camel's 25 s shutdown timeout
        await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(count(rejected)).as("the edit of " + file + " is rejected:\n" + logText()).isEqualTo(rejectedBefore);
            assertThat(count(applied)).as(applied).isGreaterThan(appliedBefore);
        });
    }

    private static boolean ready(int managementPort) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + managementPort + "/observe/health/ready")).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static long count(String logged) throws IOException {
        return logText().lines().filter(line -> line.contains(logged)).count();
    }

    private static String logText() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private static String readUnchecked(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void copyFolder(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }

    /** A device with a session of its own: CONNECT on creation, REGISTER and QoS 1 PUBLISH on demand. */
    private static final class Meter {
        final String clientId = "recipe-" + UUID.randomUUID().toString().substring(0, 8);
        final UdpClient device;

        Meter() throws IOException {
            device = new UdpClient(udpPort);
            meters.add(device);
            assertThat(device.exchange(message("04 04 01 00 3c", clientId))).isEqualTo("03 05 00");
        }

        int register(String topic) throws IOException {
            String regack = device.exchange(message("0a 00 00 00 01", topic));
            assertThat(regack).startsWith("07 0b").endsWith(" 00 01 00");
            return Integer.parseInt(regack.substring(6, 11).replace(" ", ""), 16);
        }

        byte[] publishDatagram(int topicId, int msgId, String payload) {
            return message(String.format("0c 20 %s %s", spaced(topicId), spaced(msgId)), payload);
        }

        /** The PUBACK's return code. */
        int publish(String topic, String payload) throws IOException {
            int topicId = register(topic);
            String puback = device.exchange(publishDatagram(topicId, 7, payload));
            assertThat(puback).as("PUBACK of " + topic).startsWith("07 0d " + spaced(topicId) + " 00 07");
            return Integer.parseInt(puback.substring(puback.length() - 2), 16);
        }

        private static String spaced(int value) {
            return HexFormat.ofDelimiter(" ").formatHex(new byte[] {(byte) (value >> 8), (byte) value});
        }
    }
}
