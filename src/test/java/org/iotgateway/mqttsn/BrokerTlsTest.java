package org.iotgateway.mqttsn;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RabbitMqCluster;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.TestPki;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Readings to a RabbitMQ that takes AMQP over TLS and requires a client certificate (a RabbitMQ node of the test's own),
 * named with the arguments of RabbitMQ's URI specification: {@code amqps://…?cacertfile=…&certfile=…&keyfile=…}.
 */
class BrokerTlsTest {

    @Test
    void should_publish_readings_over_tls_with_a_client_certificate() throws Exception {
        TestPki pki = TestPki.create(Files.createTempDirectory("broker-tls"));
        Path[] certificate = pki.clientCertificate("gateway");
        String clientId = "amqps-" + UUID.randomUUID().toString().substring(0, 8);
        try (RabbitMqCluster broker = RabbitMqCluster.withTls(Path.of("target", "rabbitmq-tls-" + clientId), pki)) {
            RabbitMqCluster.Node node = broker.nodes().get(0);
            String amqps = "amqps://guest:guest@localhost:" + node.tlsPort() + "//?cacertfile=" + pki.caPem().toAbsolutePath()
                    + "&certfile=" + certificate[0].toAbsolutePath() + "&keyfile=" + certificate[1].toAbsolutePath();
            try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.amqp-connection-string", amqps));
                 AmqpQueue readings = new AmqpQueue(broker.url(node), "mqtt-sn", "amqps." + clientId, "amqps-" + clientId);
                 UdpClient meter = UdpClient.atOwnAddress(gateway.udpPort())) {
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));
                meter.connectRegisterPublish(clientId, "amqps/" + clientId, "over amqps");
                assertThat(new String(readings.next(Duration.ofSeconds(5)).getBody(), StandardCharsets.UTF_8)).isEqualTo("over amqps");
                assertThat(broker.ctl(node, "list_connections", "-q", "ssl", "client_properties"))
                        .as("the gateway's connections are the TLS ones").contains("true")
                        .containsPattern("(?m)^true\\t.*iot-gateway meter ingest");
            }
        }
    }
}
