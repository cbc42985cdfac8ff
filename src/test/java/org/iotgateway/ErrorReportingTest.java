package org.iotgateway;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import com.sun.net.httpserver.HttpServer;
import io.sentry.Sentry;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Errors reach Sentry through its Log4j 2 appender when a DSN is set, as the Python gateway's MQTTSN_SENTRY_DSN did:
 * a local HTTP endpoint in Sentry's place receives the envelope.
 */
class ErrorReportingTest {

    record Received(String path, String auth, String body) {
    }

    HttpServer sentry;
    final BlockingQueue<Received> envelopes = new LinkedBlockingQueue<>();

    @BeforeEach
    void startSentryStandIn() throws IOException {
        sentry = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        sentry.createContext("/", exchange -> {
            InputStream body = exchange.getRequestBody();
            byte[] bytes = body.readAllBytes();
            if ("gzip".equalsIgnoreCase(exchange.getRequestHeaders().getFirst("Content-Encoding"))) {
                bytes = new GZIPInputStream(new ByteArrayInputStream(bytes)).readAllBytes();
            }
            envelopes.add(new Received(exchange.getRequestURI().getPath(), exchange.getRequestHeaders().getFirst("X-Sentry-Auth"),
                    new String(bytes, StandardCharsets.UTF_8)));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        sentry.start();
    }

    @AfterEach
    void stop() {
        System.clearProperty("gateway.sentry-dsn");
        Sentry.close();
        ((LoggerContext) LogManager.getContext(false)).reconfigure();
        sentry.stop(0);
    }

    @Test
    void should_send_an_error_with_its_exception_and_the_lines_before_it_to_the_dsn_and_nothing_secret() throws Exception {
        System.setProperty("gateway.sentry-dsn", "http://f00dfeed@127.0.0.1:" + sentry.getAddress().getPort() + "/42");
        ((LoggerContext) LogManager.getContext(false)).reconfigure();

        org.slf4j.Logger log = LoggerFactory.getLogger("org.iotgateway.mqttsn.MqttSnConsumer");
        log.info("MQTT-SN gateway listening on udp 0.0.0.0:2883");
        log.error("Store unavailable for CONNECT", new IllegalStateException("the store at cache:6379 is not connected"));

        Received envelope = envelopes.poll(10, TimeUnit.SECONDS);
        assertThat(envelope).as("an envelope within 10 s").isNotNull();
        assertThat(envelope.path()).isEqualTo("/api/42/envelope/");
        assertThat(envelope.auth()).contains("sentry_key=f00dfeed");
        assertThat(envelope.body())
                .contains("Store unavailable for CONNECT")
                .contains("IllegalStateException").contains("the store at cache:6379 is not connected")
                .contains("org.iotgateway.mqttsn.MqttSnConsumer")
                .contains("MQTT-SN gateway listening on udp 0.0.0.0:2883")
                // no user data is added (sendDefaultPii is off); the DSN's public key is all that names the project
                .doesNotContain("\"ip_address\"").doesNotContain("\"username\"");
        assertThat(envelopes.poll(Duration.ofMillis(500).toMillis(), TimeUnit.MILLISECONDS)).as("one event for one error").isNull();
    }

    @Test
    void should_send_nothing_without_a_dsn() throws Exception {
        ((LoggerContext) LogManager.getContext(false)).reconfigure();
        LoggerFactory.getLogger("org.iotgateway.mqttsn.MqttSnConsumer").error("an error with no DSN configured");
        assertThat(envelopes.poll(2, TimeUnit.SECONDS)).isNull();
    }
}
