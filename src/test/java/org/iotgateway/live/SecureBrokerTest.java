package org.iotgateway.live;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.TestPki;
import org.iotgateway.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The feed on a broker that wants TLS and a password, as production brokers do: a CA and a server certificate for
 * "localhost" made by the test, Mosquitto with a TLS listener and a password file.
 */
class SecureBrokerTest {

    @TempDir
    static Path work;
    private static TestPki pki;
    private static Process broker;
    private static int port;
    private static int certificatePort;
    private static Path[] client;

    @BeforeAll
    static void startBroker() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/mosquitto")), "needs mosquitto (Debian package mosquitto), as .ci/run installs");
        // mosquitto started as root reads its files as the user mosquitto
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        pki = TestPki.create(work);
        run("mosquitto_passwd", "-c", "-b", "passwd", "feed", "s3cret");
        Files.setPosixFilePermissions(work.resolve("passwd"), PosixFilePermissions.fromString("rw-r--r--"));
        port = RunningGateway.freeTcpPort();
        certificatePort = RunningGateway.freeTcpPort();
        String tls = "cafile " + pki.caPem() + "\ncertfile " + pki.serverPem() + "\nkeyfile " + pki.serverKey() + "\n";
        // the second listener lets in only clients with a certificate from the CA, named by it
        Files.writeString(work.resolve("mosquitto.conf"), "per_listener_settings true\n"
                + "listener " + port + " 127.0.0.1\n" + tls + "allow_anonymous false\npassword_file " + work.resolve("passwd") + "\n"
                + "listener " + certificatePort + " 127.0.0.1\n" + tls + "require_certificate true\nuse_identity_as_username true\n"
                + "allow_anonymous false\n");
        client = pki.clientCertificate("feed-client");
        for (Path file : client) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
        broker = new ProcessBuilder("/usr/sbin/mosquitto", "-c", work.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(work.resolve("mosquitto.log").toFile()).start();
        await().atMost(10, TimeUnit.SECONDS).until(() -> {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.destroy();
        }
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).directory(work.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }

    private static RunningGateway gateway(String url, String password) throws Exception {
        return RunningGateway.startOnly("live", Map.of("live.mqtt-url", url, "live.mqtt-username", "feed",
                "live.mqtt-password", password, "live.mqtt-trusted-ca", pki.caPem().toString(),
                "live.topics", "secure/#"));
    }

    @Test
    void should_subscribe_over_tls_with_the_password_and_deliver() throws Exception {
        try (RunningGateway gateway = gateway("ssl://localhost:" + port, "s3cret")) {
            gateway.awaitMqttReady("liveMqtt");
            try (WsClient browser = WsClient.connect(URI.create("ws://127.0.0.1:" + gateway.property("live.port") + "/ws"))) {
                browser.send("{\"subscribe\":[\"secure/#\"]}");
                browser.awaitMessages(1);
                run("mosquitto_pub", "-h", "localhost", "-p", Integer.toString(port), "--cafile", pki.caPem().toString(),
                        "-u", "feed", "-P", "s3cret", "-t", "secure/door", "-m", "locked", "-q", "1");
                assertThat(browser.awaitMessages(2).get(1)).contains("\"topic\":\"secure/door\"", "\"data\":\"locked\"");
            }
        }
    }

    @Test
    void should_present_its_client_certificate_to_a_broker_that_requires_one() throws Exception {
        Map<String, String> settings = Map.of("live.mqtt-url", "ssl://localhost:" + certificatePort,
                "live.mqtt-trusted-ca", pki.caPem().toString(), "live.topics", "secure/#",
                "live.mqtt-client-certificate", client[0].toString(), "live.mqtt-client-key", Files.readString(client[1]));
        try (RunningGateway gateway = RunningGateway.startOnly("live", settings)) {
            gateway.awaitMqttReady("liveMqtt");
        }
        // without it the broker refuses the handshake
        try (RunningGateway gateway = RunningGateway.startOnly("live", Map.of("live.mqtt-url", "ssl://localhost:" + certificatePort,
                "live.mqtt-trusted-ca", pki.caPem().toString(), "live.topics", "secure/#"))) {
            await().atMost(20, TimeUnit.SECONDS).until(() -> gateway.readiness(), body -> body.contains("cannot connect"));
        }
    }

    @Test
    void should_stay_not_ready_with_a_wrong_password_or_a_certificate_for_another_host() throws Exception {
        try (RunningGateway gateway = gateway("ssl://localhost:" + port, "wrong")) {
            await().atMost(20, TimeUnit.SECONDS).until(() -> gateway.readiness(), body -> body.contains("cannot connect"));
            assertThat(gateway.readiness()).startsWith("{\"status\":\"DOWN\"").doesNotContain("wrong");
        }
        // the certificate names localhost, not 127.0.0.1
        try (RunningGateway gateway = gateway("ssl://127.0.0.1:" + port, "s3cret")) {
            await().atMost(20, TimeUnit.SECONDS).until(() -> gateway.readiness(), body -> body.contains("cannot connect"));
            MqttConnection connection = gateway.mqtt("liveMqtt");
            assertThat(connection.isReady()).isFalse();
        }
    }

    @Test
    void should_take_the_spore_gateways_mqtt_user_and_mqtt_password_from_the_environment() throws Exception {
        int management = RunningGateway.freeTcpPort();
        ProcessBuilder application = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "org.iotgateway.GatewayMain")
                .redirectErrorStream(true).redirectOutput(work.resolve("gateway.log").toFile());
        Map<String, String> environment = application.environment();
        environment.put("MQTTSN_ENABLED", "false");
        environment.put("LIVE_MQTT_URL", "ssl://localhost:" + port);
        environment.put("LIVE_MQTT_TRUSTED_CA", pki.caPem().toString());
        environment.put("LIVE_PORT", Integer.toString(RunningGateway.freeTcpPort()));
        environment.put("GATEWAY_MANAGEMENT_PORT", Integer.toString(management));
        environment.put("MQTT_USER", "feed");
        environment.put("MQTT_PASSWORD", "s3cret");
        Process gateway = application.start();
        try {
            await().atMost(60, TimeUnit.SECONDS).ignoreExceptions()
                    .until(() -> RunningGateway.readiness(management), body -> body.startsWith("{\"status\":\"UP\""));
        } finally {
            gateway.destroy();
            gateway.waitFor(30, TimeUnit.SECONDS);
        }
    }


}
