package org.iotgateway.mqttsn;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RedisServer;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.TestPki;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The store over TLS, as a managed Valkey or Redis offers it: a redis-server that speaks TLS only and requires a client
 * certificate, given to the gateway as redis-py takes it ({@code valkeys://} with ssl_ca_certs, ssl_certfile and
 * ssl_keyfile). A server whose certificate the CA did not sign is never used.
 */
class StoreTlsTest {

    @Test
    void should_keep_sessions_in_a_store_that_speaks_tls_only_and_requires_a_client_certificate() throws Exception {
        TestPki pki = TestPki.create(Files.createTempDirectory("store-tls"));
        Path[] certificate = pki.clientCertificate("gateway");
        String clientId = "tls-" + UUID.randomUUID().toString().substring(0, 8);
        try (RedisServer store = RedisServer.withTls(Path.of("target", "store-tls", "redis.log"), pki);
             RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string",
                     "valkeys://localhost:" + store.port() + "/0?ssl_ca_certs=" + pki.caPem().toAbsolutePath()
                             + "&ssl_certfile=" + certificate[0].toAbsolutePath() + "&ssl_keyfile=" + certificate[1].toAbsolutePath()));
             AmqpQueue readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "tls." + clientId, "tls-" + clientId);
             UdpClient meter = UdpClient.atOwnAddress(gateway.udpPort())) {
            await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));
            meter.connectRegisterPublish(clientId, "tls/" + clientId, "over tls");
            assertThat(new String(readings.next(Duration.ofSeconds(5)).getBody(), StandardCharsets.UTF_8)).isEqualTo("over tls");
            assertThat(store.cli("get", "client:" + meter.localAddress())).isEqualTo(clientId);
        }
    }

    @Test
    void should_stay_unready_naming_the_store_when_its_certificate_is_not_from_the_trusted_ca() throws Exception {
        TestPki pki = TestPki.create(Files.createTempDirectory("store-tls"));
        TestPki other = TestPki.create(Files.createTempDirectory("store-tls-other"));
        Path[] certificate = pki.clientCertificate("gateway");
        try (RedisServer store = RedisServer.withTls(Path.of("target", "store-tls", "redis-untrusted.log"), pki);
             RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string",
                     "valkeys://localhost:" + store.port() + "/0?ssl_ca_certs=" + other.caPem().toAbsolutePath()
                             + "&ssl_certfile=" + certificate[0].toAbsolutePath() + "&ssl_keyfile=" + certificate[1].toAbsolutePath()))) {
            await().during(Duration.ofSeconds(3)).atMost(10, TimeUnit.SECONDS)
                    .until(() -> gateway.readiness().contains("DOWN"));
            assertThat(gateway.readiness()).contains("mqttsn").contains("Cannot connect to the store (TLS localhost:" + store.port() + ")")
                    .contains("trust anchors");
        }
    }
}
