package org.iotgateway.rabbitmq;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Delivery;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultExchange;
import org.awaitility.Awaitility;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The meter ingest's publisher, on the real RabbitMQ, answers each message by that message's own confirm even when
 * publishes that cannot succeed are mixed in on the same channel: a message answered as delivered is in the queue, one
 * RabbitMQ refused (nack) is answered as refused, and a message the AMQP client cannot encode gets its own error.
 */
class ConfirmCorrelationTest {

    static RunningGateway gateway;
    static ConfirmingAmqpPublisher publisher;
    static Connection admin;
    static String refusingQueue;

    /** What a message is made to be, and so how it must be answered. */
    enum Kind {
        ACCEPTED, REFUSED_BY_A_FULL_QUEUE, ROUTING_KEY_TOO_LONG, HEADER_AMQP_CANNOT_CARRY
    }

    record Sent(Kind kind, String body, CompletableFuture<Exception> outcome) {
    }

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.startOnly("mqttsn", Map.of());
        publisher = gateway.context().getEndpoints().stream().filter(RabbitMqConfirmedEndpoint.class::isInstance)
                .map(endpoint -> ((RabbitMqConfirmedEndpoint) endpoint).publisher()).findFirst().orElseThrow();
        admin = AmqpUrl.parse(gateway.amqpUrl()).connectionFactory().newConnection("correlation test admin");
        // a queue that holds nothing and refuses what reaches it: RabbitMQ nacks every message routed there
        refusingQueue = "refusing-" + UUID.randomUUID();
        Channel channel = admin.createChannel();
        channel.queueDeclare(refusingQueue, false, false, true, Map.of("x-max-length", 0, "x-overflow", "reject-publish"));
        channel.queueBind(refusingQueue, "mqtt-sn", "correlation.refused.#");
        Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        gateway.close();
    }

    @Test
    void should_answer_every_message_by_its_own_confirm_with_unencodable_and_refused_publishes_mixed_in() throws Exception {
        try (AmqpQueue accepted = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "correlation.accepted.#", "accepted-" + UUID.randomUUID())) {
            List<Sent> sent = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                sent.add(send(Kind.values()[i % Kind.values().length], i));
            }
            CompletableFuture.allOf(sent.stream().map(Sent::outcome).toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            assertAnsweredByTheirOwnOutcome(sent, accepted);
        }
    }

    @Test
    void should_reconnect_and_stay_correlated_after_a_publish_throws_on_the_channel() throws Exception {
        try (AmqpQueue accepted = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "correlation.accepted.#", "accepted-" + UUID.randomUUID())) {
            // a BigDecimal of this scale passes the publisher's checks and fails inside the AMQP client, after the
            // channel took a publish sequence number for it
            Exchange broken = exchange("correlation.accepted.broken", "broken");
            broken.getMessage().setHeader("reading", new BigDecimal("1E-300"));
            CompletableFuture<Exception> brokenOutcome = publish(broken);
            assertThat(brokenOutcome.get(10, TimeUnit.SECONDS)).hasMessageContaining("publish failed");

            // the publisher reconnects; from then on every answer is again that message's own
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> publish(exchange("correlation.accepted.probe", "probe"))
                    .get(10, TimeUnit.SECONDS) == null);
            assertThat(accepted.next(Duration.ofSeconds(5)).getBody()).asString(StandardCharsets.UTF_8).isEqualTo("probe");
            List<Sent> sent = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                sent.add(send(Kind.values()[i % Kind.values().length], i));
            }
            CompletableFuture.allOf(sent.stream().map(Sent::outcome).toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            assertAnsweredByTheirOwnOutcome(sent, accepted);
            Set<String> stray = new HashSet<>();
            for (Delivery more = accepted.next(Duration.ofMillis(300)); more != null; more = accepted.next(Duration.ofMillis(300))) {
                stray.add(new String(more.getBody(), StandardCharsets.UTF_8));
            }
            assertThat(stray).as("the message that failed to publish").doesNotContain("broken");
        }
    }

    private static void assertAnsweredByTheirOwnOutcome(List<Sent> sent, AmqpQueue accepted) throws Exception {
        Set<String> inRabbitMq = new HashSet<>();
        long expected = sent.stream().filter(s -> s.kind() == Kind.ACCEPTED).count();
        for (int n = 0; n < expected; n++) {
            Delivery delivery = accepted.next(Duration.ofSeconds(10));
            assertThat(delivery).as("accepted message " + (n + 1) + " of " + expected).isNotNull();
            inRabbitMq.add(new String(delivery.getBody(), StandardCharsets.UTF_8));
        }
        assertThat(accepted.next(Duration.ofMillis(300))).as("nothing else reached the queue").isNull();
        for (Sent each : sent) {
            Exception failure = each.outcome().getNow(null);
            assertThat(failure == null).as(each.body() + " answered as delivered exactly when RabbitMQ holds it")
                    .isEqualTo(inRabbitMq.contains(each.body()));
            assertThat(failure == null).as(each.body() + " answered as delivered").isEqualTo(each.kind() == Kind.ACCEPTED);
        }
        for (Sent each : sent) {
            Exception failure = each.outcome().getNow(null);
            switch (each.kind()) {
                case ACCEPTED -> assertThat(failure).isNull();
                case REFUSED_BY_A_FULL_QUEUE -> assertThat(failure).as(each.body()).hasMessageContaining("nack");
                case ROUTING_KEY_TOO_LONG -> assertThat(failure).as(each.body()).hasMessageContaining("routing key is longer");
                case HEADER_AMQP_CANNOT_CARRY -> assertThat(failure).as(each.body()).hasMessageContaining("header 'reading'");
            }
        }
    }

    private static Sent send(Kind kind, int i) {
        String body = kind + "-" + i;
        Exchange exchange = switch (kind) {
            case ACCEPTED -> exchange("correlation.accepted." + i, body);
            case REFUSED_BY_A_FULL_QUEUE -> exchange("correlation.refused." + i, body);
            case ROUTING_KEY_TOO_LONG -> exchange("correlation.accepted." + "x".repeat(300), body);
            case HEADER_AMQP_CANNOT_CARRY -> {
                Exchange unencodable = exchange("correlation.accepted." + i, body);
                unencodable.getMessage().setHeader("reading", new Object());
                yield unencodable;
            }
        };
        return new Sent(kind, body, publish(exchange));
    }

    private static Exchange exchange(String routingKey, String body) {
        Exchange exchange = new DefaultExchange(gateway.context());
        exchange.getMessage().setHeader(RabbitMqConfirmedConstants.ROUTING_KEY, routingKey);
        exchange.getMessage().setBody(body.getBytes(StandardCharsets.UTF_8));
        return exchange;
    }

    private static CompletableFuture<Exception> publish(Exchange exchange) {
        CompletableFuture<Exception> outcome = new CompletableFuture<>();
        publisher.process(exchange, doneSync -> outcome.complete(exchange.getException()));
        return outcome;
    }
}
