package org.iotgateway.inverter;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.camel.health.HealthCheckRegistry;
import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.testing.CapturedLogs;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.MqttTestClient.Received;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The inverter bridge between a TLS broker that checks JWTs and a stub of the solar gateway's web API, both speaking
 * the real protocols; a cloud client sends the Modbus requests and reads the answers and the state.
 */
class InverterBridgeTest {

    private static final String MAIN_BRIDGE = "main-bridge";
    private static final String TIMESTAMP = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z";

    @TempDir
    static Path work;
    private static TestPki pki;
    private static SolarGatewayStub webApi;
    private static JwtCheckingBroker broker;
    private static int brokerPort;
    private static CapturedLogs logs;
    private static RunningGateway gateway;
    private static MqttTestClient cloud;
    private static BlockingQueue<Received> responses;
    private static BlockingQueue<Received> states;

    @BeforeAll
    static void start() throws Exception {
        pki = TestPki.create(Files.createDirectories(work.resolve("pki")));
        webApi = new SolarGatewayStub(RunningGateway.freeTcpPort());
        // short-lived tokens, so that a reconnect a few seconds later needs a new one
        webApi.tokenLifetime = Duration.ofSeconds(3);
        brokerPort = RunningGateway.freeTcpPort();
        broker = new JwtCheckingBroker(work.resolve("broker"), brokerPort, pki, webApi::rejection);
        logs = new CapturedLogs();
        gateway = bridge(Map.of("inverter.client-id", MAIN_BRIDGE));
        cloud = new MqttTestClient("ssl://localhost:" + brokerPort, JwtCheckingBroker.CLOUD_USER,
                JwtCheckingBroker.CLOUD_PASSWORD, pki.clientSocketFactory());
        responses = cloud.subscribe("iamcat/modbus/response");
        states = cloud.subscribe("iamcat/state");
        gateway.awaitMqttReady("inverterMqtt");
    }

    @AfterAll
    static void stop() throws Exception {
        if (cloud != null) {
            cloud.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (logs != null) {
            logs.close();
        }
        if (broker != null) {
            broker.close();
        }
        if (webApi != null) {
            webApi.close();
        }
    }

    private static RunningGateway bridge(Map<String, String> overrides) throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of("inverter.enabled", "true",
                "inverter.broker-host", "localhost", "inverter.broker-port", Integer.toString(brokerPort),
                "inverter.root-ca", pki.caPem().toString(),
                "inverter.web-host", "127.0.0.1", "inverter.web-port", webApi.url().replaceAll(".*:", ""),
                "inverter.web-timeout-millis", "1000", "inverter.state-period-millis", "1000",
                "inverter.state-timeout-millis", "500"));
        settings.putAll(overrides);
        return RunningGateway.startOnly("inverter", settings);
    }

    /** Sends a request as the cloud does and returns the bridge's answer with its timestamp replaced by TS. */
    private static String ask(String request) throws Exception {
        cloud.publish("iamcat/modbus/request", request.getBytes(StandardCharsets.UTF_8), 1, false);
        Received response = responses.poll(15, TimeUnit.SECONDS);
        assertThat(response).as("answer to " + request).isNotNull();
        assertThat(response.text()).matches("\\{\"timestamp\":\"" + TIMESTAMP + "\",.*");
        return response.text().replaceFirst(TIMESTAMP, "TS");
    }

    @Test
    void should_log_in_over_tls_with_the_serial_number_and_a_fresh_jwt() throws Exception {
        JwtCheckingBroker.Login first = broker.logins.stream()
                .filter(login -> login.clientId().equals(MAIN_BRIDGE)).findFirst().orElseThrow();
        assertThat(first.username()).isEqualTo(SolarGatewayStub.SERIAL);
        assertThat(first.rejection()).isNull();
        assertThat(webApi.jwtRequests.get(0).toString()).matches("\\{\"barn\":\\{\"sub\":\"" + SolarGatewayStub.SERIAL
                + "\",\"iat\":\"" + TIMESTAMP + "\",\"exp\":\"" + TIMESTAMP + "\"},"
                + "\"headers\":\\{\"alg\":\"ES256\",\"typ\":\"JWT\"},\"expires_in\":5}");
        assertThat(gateway.readiness()).startsWith("{\"status\":\"UP\"");
        assertThat(HealthCheckRegistry.get(gateway.context()).getCheck("inverter-web-api").orElseThrow().call().getDetails())
                .containsEntry("serial.number", SolarGatewayStub.SERIAL).containsKey("token.age.seconds");
    }

    @Test
    void should_wait_for_the_web_api_before_connecting_and_say_why_it_is_not_ready() throws Exception {
        int port = RunningGateway.freeTcpPort();
        try (RunningGateway waiting = bridge(Map.of("inverter.web-port", Integer.toString(port), "inverter.client-id", "waiting-bridge"))) {
            // the health JSON escapes the slashes of the URL
            await().atMost(20, TimeUnit.SECONDS).until(() -> waiting.readiness().replace("\\", ""),
                    body -> body.contains("cannot connect without credentials: cannot obtain a JWT from the web API: "
                            + "the web API at http://127.0.0.1:" + port + " is unreachable (connection refused)"));
            assertThat(broker.logins).noneMatch(login -> login.clientId().equals("waiting-bridge"));
            try (SolarGatewayStub late = new SolarGatewayStub(port, webApi)) {
                waiting.awaitMqttReady("inverterMqtt");
                assertThat(broker.logins).filteredOn(login -> login.clientId().equals("waiting-bridge"))
                        .singleElement().extracting(JwtCheckingBroker.Login::rejection).isNull();
            }
        }
    }

    @Test
    void should_present_a_new_valid_token_when_reconnecting_after_the_first_expired() throws Exception {
        JwtCheckingBroker.Login before = lastBridgeLogin();
        // the token the bridge connected with expires (the stub's tokens live 3 s)
        await().atMost(10, TimeUnit.SECONDS).until(() -> webApi.rejection(before.username(), before.password()),
                "token expired"::equals);
        broker.disconnect(before.clientId());
        await().atMost(20, TimeUnit.SECONDS).until(() -> lastBridgeLogin() != before && gateway.mqtt("inverterMqtt").isReady());
        JwtCheckingBroker.Login after = lastBridgeLogin();
        assertThat(after.rejection()).isNull();
        assertThat(after.password()).isNotEqualTo(before.password());
        assertThat(broker.logins).filteredOn(login -> login.username().equals(SolarGatewayStub.SERIAL))
                .allMatch(login -> login.rejection() == null);
        assertThat(ask("{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":1}")).contains("\"value\":50.0");
    }

    private static JwtCheckingBroker.Login lastBridgeLogin() {
        List<JwtCheckingBroker.Login> bridge = broker.logins.stream()
                .filter(login -> login.clientId().equals(MAIN_BRIDGE)).toList();
        return bridge.get(bridge.size() - 1);
    }

    @Test
    void should_answer_the_originals_requests_with_the_api_answer_verbatim() throws Exception {
        String read = "{\"function_code\": 3, \"device_id\": \"A2332407312\", \"address\": 10056, \"size\": 1, "
                + "\"type\": \"U16\", \"endianess\": \"big\", \"scale_factor\": 1}";
        assertThat(ask(read)).isEqualTo("{\"timestamp\":\"TS\",\"type\":\"modbus_response\",\"request\":" + read
                + ",\"response\":{\"register\":10056,\"size\":1,\"raw_value\":\"01f4\",\"swapped_value\":\"f401\",\"value\":50.0}}");
        assertThat(lastQuery()).isEqualTo("device_id=A2332407312&function_code=3&address=10056&size=1&type=U16&endianess=big&scale_factor=1");

        String write = "{\"function_code\": 16, \"device_id\": \"A2332407312\", \"address\": 33207, \"values\": 170, \"type\": \"U16\"}";
        assertThat(ask(write)).isEqualTo("{\"timestamp\":\"TS\",\"type\":\"modbus_response\",\"request\":" + write
                + ",\"response\":{\"address\":33207,\"success\":true,\"values\":[170]}}");
        assertThat(lastQuery()).isEqualTo("device_id=A2332407312&address=33207&function_code=16&values=170&type=U16");

        String writeList = "{\"function_code\":16,\"device_id\":\"A2332407312\",\"address\":1000,\"values\":[10,20,30]}";
        assertThat(ask(writeList)).isEqualTo("{\"timestamp\":\"TS\",\"type\":\"modbus_response\",\"request\":" + writeList
                + ",\"response\":{\"address\":1000,\"success\":true,\"values\":[10,20,30]}}");
        assertThat(lastQuery()).isEqualTo("device_id=A2332407312&address=1000&function_code=16&values=10%2C20%2C30&type=U16");

        // numeric strings, register 0 (which the original refused) and the read defaults
        assertThat(ask("{\"function_code\":\"4\",\"device_id\":\"A2332407312\",\"address\":\"0\"}")).contains("\"register\":0");
        assertThat(lastQuery()).isEqualTo("device_id=A2332407312&function_code=4&address=0&size=1&type=U16&endianess=big&scale_factor=1");
    }

    private static String lastQuery() {
        return webApi.modbusQueries.get(webApi.modbusQueries.size() - 1);
    }

    @Test
    void should_answer_every_failed_request_with_the_specific_reason() throws Exception {
        Map<String, String> expectedResponses = new java.util.LinkedHashMap<>();
        expectedResponses.put("{\"function_code\":3,", failure("invalid JSON: Unexpected end-of-input within/between Object entries at line 1 column 20", null));
        expectedResponses.put("[1,2]", failure("the request must be a JSON object", null));
        expectedResponses.put("{\"device_id\":\"A2332407312\",\"address\":1}", failure("missing field: function_code", null));
        expectedResponses.put("{\"function_code\":99,\"device_id\":\"A2332407312\",\"address\":1}",
                failure("unsupported function_code 99: 3 and 4 read registers, 16 writes them", null));
        expectedResponses.put("{\"function_code\":3,\"address\":1}", failure("missing field: device_id", null));
        expectedResponses.put("{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":-1}",
                failure("address must be from 0 to 65535, got -1", null));
        expectedResponses.put("{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":\"ten\"}",
                failure("address must be an integer, got \\\"ten\\\"", null));
        expectedResponses.put("{\"function_code\":16,\"device_id\":\"A2332407312\",\"address\":1}", failure("missing field: values", null));
        expectedResponses.put("{\"function_code\":16,\"device_id\":\"A2332407312\",\"address\":1,\"values\":\"10,x\"}",
                failure("values must be an integer, a list of integers or a comma-separated string of integers, got \\\"10,x\\\"", null));
        expectedResponses.put("{\"function_code\":3,\"device_id\":\"nope\",\"address\":1}", failure("device nope not found", 400));
        expectedResponses.put("{\"function_code\":3,\"device_id\":\"broken\",\"address\":1}",
                failure("modbus timeout talking to the inverter", 500));
        expectedResponses.put("{\"function_code\":3,\"device_id\":\"html\",\"address\":1}", failure("the web API answered HTTP 502", 502));
        expectedResponses.put("{\"function_code\":3,\"device_id\":\"slow\",\"address\":1}",
                failure("the web API did not answer the Modbus call within 1000 ms", null));
        for (Map.Entry<String, String> expected : expectedResponses.entrySet()) {
            String request = expected.getKey();
            String quoted = request.startsWith("{\"function_code\":3,") && request.length() == 19
                    ? "\"" + request.replace("\"", "\\\"") + "\"" : request;
            assertThat(ask(request)).isEqualTo("{\"timestamp\":\"TS\",\"type\":\"modbus_response\",\"request\":" + quoted
                    + ",\"response\":" + expected.getValue() + "}");
        }
        assertThat(gateway.metrics()).containsPattern("inverter_modbus_responses_total\\{success=\"false\"} (1[3-9]|[2-9]\\d)\\.0");
    }

    @Test
    void should_answer_every_mutated_or_hostile_request_with_a_json_answer_and_serve_on() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        java.util.Random random = new java.util.Random(seed);
        String[] valid = {"{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":40070,\"size\":2}",
                "{\"function_code\":4,\"device_id\":\"A2332407312\",\"address\":1,\"type\":\"S32\",\"scale_factor\":0.1}",
                "{\"function_code\":16,\"device_id\":\"A2332407312\",\"address\":40100,\"values\":[1,2,3]}"};
        String[] hostile = {"[".repeat(100_000), "{\"function_code\":" + "9".repeat(5_000) + "}",
                "{\"function_code\":16,\"device_id\":\"A2332407312\",\"address\":1,\"values\":["
                + "1,".repeat(10_000) + "1]}", "{\"function_code\":3,\"device_id\":\"" + "d".repeat(100_000) + "\",\"address\":1}",
                "\u0000\u0001", "null", ""};
        int requests = 200;
        int answered = 0;
        List<String> unanswered = new java.util.ArrayList<>();
        for (int i = 0; i < requests; i++) {
            byte[] request = (random.nextInt(8) == 0 ? hostile[random.nextInt(hostile.length)] : valid[random.nextInt(valid.length)])
                    .getBytes(StandardCharsets.UTF_8);
            for (int flips = random.nextInt(3); flips > 0 && request.length > 0; flips--) {
                request[random.nextInt(request.length)] = (byte) (32 + random.nextInt(95));
            }
            cloud.publish("iamcat/modbus/request", request, 1, false);
            Received response = responses.poll(5, TimeUnit.SECONDS);
            if (response != null) {
                assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(response.text()).path("type").asText())
                        .as("answer to request %d (seed %d)", i, seed).isEqualTo("modbus_response");
                answered++;
            } else {
                String text = new String(request, StandardCharsets.UTF_8);
                unanswered.add(i + ": " + text.substring(0, Math.min(120, text.length())));
            }
        }
        System.out.printf("Inverter request fuzzing (seed %d): %d requests, %d answered%n", seed, requests, answered);
        assertThat(unanswered).as("requests not answered (seed " + seed + ")").isEmpty();
        assertThat(ask("{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":40070}")).contains("\"register\":40070");
    }

    private static String failure(String error, Integer status) {
        return "{\"success\":false,\"error\":\"" + error + "\",\"status\":" + status + "}";
    }

    @Test
    void should_publish_the_fallback_state_and_answer_requests_while_the_api_is_down_then_recover() throws Exception {
        Received state = states.poll(5, TimeUnit.SECONDS);
        assertThat(state).isNotNull();
        assertThat(state.text()).matches("\\{\"status\":\"online\",\"uptime\":1234.5,\"version\":\"0.21.3\",\"timestamp\":\""
                + TIMESTAMP + "\",\"connected_devices\":3,\"type\":\"gateway_state\"}");
        webApi.stop();
        try {
            await().atMost(10, TimeUnit.SECONDS).until(() -> states.take().text().contains("api_unavailable"));
            Received fallback = states.take();
            assertThat(fallback.text()).matches("\\{\"timestamp\":\"" + TIMESTAMP + "\",\"type\":\"gateway_state\","
                    + "\"status\":\"api_unavailable\",\"uptime\":\\d+\\.\\d+,\"version\":\"1.0.0\","
                    + "\"error\":\"Failed to fetch state from web container\"}");
            assertThat(ask("{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":1}"))
                    .endsWith(failure("the web API at " + webApi.url() + " is unreachable (connection refused)", null) + "}");
            assertThat(gateway.readiness()).contains("\"inverter-web-api\"").contains("unreachable");
        } finally {
            webApi.start();
        }
        await().atMost(10, TimeUnit.SECONDS).until(() -> states.take().text().contains("\"status\":\"online\""));
        await().atMost(10, TimeUnit.SECONDS).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
    }

    @Test
    void should_carry_a_burst_of_1000_requests_with_at_most_the_pool_in_flight_and_lose_none() throws Exception {
        webApi.modbusLatencyMillis = 50;
        webApi.maxInFlight.set(0);
        try {
            for (int address = 0; address < 1000; address++) {
                cloud.publish("iamcat/modbus/request", ("{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":"
                        + address + ",\"burst\":true}").getBytes(StandardCharsets.UTF_8), 1, false);
            }
            Set<String> answered = new HashSet<>();
            Pattern register = Pattern.compile("\"burst\":true},\"response\":\\{\"register\":(\\d+),");
            while (answered.size() < 1000) {
                Received response = responses.poll(30, TimeUnit.SECONDS);
                assertThat(response).as("answer " + (answered.size() + 1) + " of 1000").isNotNull();
                Matcher matcher = register.matcher(response.text());
                if (matcher.find()) {
                    assertThat(answered.add(matcher.group(1))).as("answered once: " + response.text()).isTrue();
                }
            }
            assertThat(webApi.maxInFlight.get()).isEqualTo(Integer.parseInt(gateway.property("inverter.concurrency")));
        } finally {
            webApi.modbusLatencyMillis = 0;
        }
    }

    @Test
    void should_answer_busy_when_more_requests_wait_than_the_queue_holds() throws Exception {
        try (RunningGateway small = bridge(Map.of("inverter.concurrency", "1", "inverter.queue-size", "1",
                "inverter.client-id", "small-bridge"))) {
            small.awaitMqttReady("inverterMqtt");
            webApi.modbusLatencyMillis = 500;
            try {
                for (int address = 0; address < 5; address++) {
                    cloud.publish("iamcat/modbus/request", ("{\"function_code\":3,\"device_id\":\"A2332407312\",\"address\":"
                            + address + "}").getBytes(StandardCharsets.UTF_8), 1, false);
                }
                // both bridges answer: the main one all five, the small one two and three "busy"
                List<String> answers = new java.util.ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    Received response = responses.poll(30, TimeUnit.SECONDS);
                    assertThat(response).isNotNull();
                    answers.add(response.text());
                }
                assertThat(answers).filteredOn(answer -> answer.contains("the bridge is busy: too many requests are waiting"))
                        .hasSize(3);
            } finally {
                webApi.modbusLatencyMillis = 0;
            }
        }
    }

    @Test
    void should_never_log_or_expose_the_jwt() throws Exception {
        String everything = logs.text() + gateway.metrics() + gateway.readiness();
        assertThat(broker.logins).filteredOn(login -> login.username().equals(SolarGatewayStub.SERIAL)).isNotEmpty()
                .allSatisfy(login -> assertThat(everything).doesNotContain(login.password())
                        .doesNotContain(login.password().substring(login.password().lastIndexOf('.') + 1)));
        assertThat(logs.text()).contains("Obtained a JWT valid for 5 min for serial number " + SolarGatewayStub.SERIAL);
    }

    @Test
    void should_refuse_a_broker_whose_certificate_comes_from_another_ca_or_names_another_host() throws Exception {
        TestPki otherCa = TestPki.create(Files.createDirectories(work.resolve("other-ca")));
        try (RunningGateway wrongCa = bridge(Map.of("inverter.root-ca", otherCa.caPem().toString()))) {
            await().atMost(20, TimeUnit.SECONDS).until(() -> wrongCa.readiness(), body -> body.contains("cannot connect"));
            assertThat(wrongCa.readiness()).contains("TLS handshake failed: Path does not chain with any of the trust anchors");
        }
        // the certificate names localhost, not 127.0.0.1
        try (RunningGateway wrongHost = bridge(Map.of("inverter.broker-host", "127.0.0.1"))) {
            await().atMost(20, TimeUnit.SECONDS).until(() -> wrongHost.readiness(), body -> body.contains("cannot connect"));
            assertThat(wrongHost.readiness()).contains("TLS handshake failed: No subject alternative names matching IP address 127.0.0.1 found");
        }
        assertThat(logs.text()).contains("WARN  MqttConnection - MQTT connection 'inverterMqtt': cannot connect to ssl://127.0.0.1:" + brokerPort);
    }
}
