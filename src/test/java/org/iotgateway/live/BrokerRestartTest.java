package org.iotgateway.live;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.WsClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A broker restart under the feed: the connection comes back, the subscriptions are made again (the camel-paho-mqtt5
 * 4.17 consumer can stay started and receive nothing, CAMEL-24511), and browsers keep receiving on the same socket.
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
            MqttConnection connection = gateway.context().getRegistry().lookupByNameAndType("liveMqtt", MqttConnection.class);
            await().atMost(30, TimeUnit.SECONDS).until(connection::isReady);
            try (WsClient browser = WsClient.connect(URI.create("ws://127.0.0.1:" + gateway.property("live.port") + "/ws"))) {
                try (MqttTestClient device = new MqttTestClient(url)) {
                    device.publish("restart/before", "1".getBytes(StandardCharsets.UTF_8), 1, false);
                }
                assertThat(browser.awaitMessages(1).get(0)).contains("\"topic\":\"restart/before\"");

                broker.destroy();
                broker.waitFor(10, TimeUnit.SECONDS);
                await().atMost(10, TimeUnit.SECONDS).until(() -> !connection.isReady());
                assertThat(gateway.metrics()).contains("mqtt_connected{connection=\"liveMqtt\"} 0.0");
                broker = start(mosquitto, port);
                await().atMost(60, TimeUnit.SECONDS).until(connection::isReady);

                try (MqttTestClient device = new MqttTestClient(url)) {
                    device.publish("restart/after", "2".getBytes(StandardCharsets.UTF_8), 1, false);
                }
                assertThat(browser.awaitMessages(2).get(1)).contains("\"topic\":\"restart/after\"", "\"data\":\"2\"");
                assertThat(gateway.metrics()).contains("mqtt_reconnects_total{connection=\"liveMqtt\"} 1.0");
            }
        } finally {
            broker.destroy();
        }
    }

    private static Process start(Path mosquitto, int port) throws Exception {
        Process process = new ProcessBuilder(mosquitto.toString(), "-p", Integer.toString(port))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        await().atMost(10, TimeUnit.SECONDS).until(() -> {
            try (java.net.Socket ignored = new java.net.Socket("127.0.0.1", port)) {
                return true;
            } catch (java.io.IOException notYet) {
                return false;
            }
        });
        return process;
    }
}
