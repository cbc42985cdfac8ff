package org.iotgateway.live;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.hivemq.embedded.EmbeddedHiveMQ;
import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.WsClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The broker under the feed: after a restart the connection comes back, the subscriptions are made again (the
 * camel-paho-mqtt5 4.17 consumer can stay started and receive nothing, CAMEL-24511), and browsers keep receiving on the
 * same socket; a subscription the broker does not grant keeps the gateway not ready, saying why, and is retried.
 */
class BrokerRestartTest {

    @Test
    void should_keep_delivering_to_connected_browsers_after_the_broker_restarts() throws Exception {
        Path mosquitto = Path.of("/usr/sbin/mosquitto");
        assumeTrue(Files.isExecutable(mosquitto), "needs the mosquitto binary (Debian package mosquitto), as .ci/run installs");
        int port = RunningGateway.freeTcpPort();
        Process broker = start(mosquitto, port);
        String url = "tcp://127.0.0.1:" + port;
        try (RunningGateway gateway = RunningGateway.startOnly("live", Map.of("live.mqtt-url", url,
                "live.topics", "restart/#@1"))) {
            MqttConnection connection = gateway.awaitMqttReady("liveMqtt");
            try (WsClient browser = WsClient.connect(URI.create("ws://127.0.0.1:" + gateway.property("live.port") + "/ws"))) {
                try (MqttTestClient device = new MqttTestClient(url)) {
                    device.publish("restart/before", "1".getBytes(StandardCharsets.UTF_8), 1, false);
                    device.publish("restart/kept", "old".getBytes(StandardCharsets.UTF_8), 1, true);
                }
                assertThat(browser.awaitMessages(2)).anySatisfy(frame -> assertThat(frame).contains("\"topic\":\"restart/before\""));
                browser.clear();

                broker.destroy();
                broker.waitFor(10, TimeUnit.SECONDS);
                await().atMost(10, TimeUnit.SECONDS).until(() -> !connection.isReady());
                assertThat(gateway.metrics()).contains("mqtt_connected{connection=\"liveMqtt\"} 0.0");
                broker = start(mosquitto, port);
                await().atMost(60, TimeUnit.SECONDS).until(connection::isReady);

                try (MqttTestClient device = new MqttTestClient(url)) {
                    device.publish("restart/after", "2".getBytes(StandardCharsets.UTF_8), 1, false);
                }
                assertThat(browser.awaitMessages(1).get(0)).contains("\"topic\":\"restart/after\"", "\"data\":\"2\"");
                assertThat(gateway.metrics()).contains("mqtt_reconnects_total{connection=\"liveMqtt\"} 1.0");

                // the restarted broker (no persistence) holds no retained value any more: nor does the feed, once the
                // resubscription's replay is over
                try (MqttTestClient device = new MqttTestClient(url)) {
                    device.publish("restart/fresh", "new".getBytes(StandardCharsets.UTF_8), 1, true);
                }
                await().atMost(10, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                    try (WsClient late = WsClient.connect(URI.create("ws://127.0.0.1:" + gateway.property("live.port")
                            + "/ws?filter=restart/%2B"))) {
                        late.send("{\"subscribe\":[\"restart/none\"]}");
                        List<String> frames = late.awaitMessages(2);
                        assertThat(frames).anySatisfy(frame -> assertThat(frame).contains("\"topic\":\"restart/fresh\""))
                                .noneSatisfy(frame -> assertThat(frame).contains("restart/kept"));
                    }
                });
            }
        } finally {
            broker.destroy();
        }
    }

    @Test
    void should_stay_not_ready_and_say_why_while_the_broker_does_not_grant_a_subscription(@TempDir Path work) throws Exception {
        // a broker that does not allow wildcard subscriptions: HiveMQ (the embedded stand-in) can be told so; it leaves
        // such a SUBSCRIBE unanswered, which the connection must not take for success
        int port = RunningGateway.freeTcpPort();
        Path config = Files.createDirectories(work.resolve("conf"));
        Files.writeString(config.resolve("config.xml"), "<?xml version=\"1.0\"?><hivemq><listeners><tcp-listener><port>" + port
                + "</port><bind-address>127.0.0.1</bind-address></tcp-listener></listeners>"
                + "<persistence><mode>in-memory</mode></persistence>"
                + "<mqtt><wildcard-subscriptions><enabled>false</enabled></wildcard-subscriptions></mqtt></hivemq>");
        try (EmbeddedHiveMQ broker = EmbeddedHiveMQ.builder().withConfigurationFolder(config)
                .withDataFolder(Files.createDirectories(work.resolve("data")))
                .withExtensionsFolder(Files.createDirectories(work.resolve("extensions"))).withoutLoggingBootstrap().build()) {
            broker.start().get(60, TimeUnit.SECONDS);
            try (RunningGateway gateway = RunningGateway.startOnly("live", Map.of("live.mqtt-url", "tcp://127.0.0.1:" + port,
                    "live.topics", "plain/topic,sensor/#"))) {
                MqttConnection connection = gateway.mqtt("liveMqtt");
                await().atMost(30, TimeUnit.SECONDS).alias("readiness saying the subscription failed")
                        .until(() -> gateway.readiness(), body -> body.contains("did not answer SUBSCRIBE within 10 s"));
                assertThat(gateway.readiness()).startsWith("{\"status\":\"DOWN\"");
                assertThat(connection.isReady()).isFalse();
                assertThat(gateway.metrics()).contains("mqtt_connected{connection=\"liveMqtt\"} 0.0");
            }
            broker.stop().get(30, TimeUnit.SECONDS);
        }
    }


    private static Process start(Path mosquitto, int port) throws Exception {
        Process process = new ProcessBuilder(mosquitto.toString(), "-p", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        await().atMost(10, TimeUnit.SECONDS).until(() -> {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException notYet) {
                return false;
            }
        });
        return process;
    }
}
