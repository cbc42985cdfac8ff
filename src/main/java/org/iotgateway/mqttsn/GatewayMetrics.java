package org.iotgateway.mqttsn;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.iotgateway.mqttsn.protocol.DropReason;
import org.iotgateway.mqttsn.protocol.ReturnCode;

/**
 * The gateway's meters, all tagged with the UDP port: datagrams received, datagrams dropped by reason, PUBLISH
 * outcomes by return code, the time from datagram to PUBACK, and readings in flight.
 */
final class GatewayMetrics {

    private final Counter received;
    private final Map<DropReason, Counter> dropped = new EnumMap<>(DropReason.class);
    private final Counter[] publishes = new Counter[4];
    private final Counter unknownClient;
    private final Counter storeErrors;
    private final Map<Refusal, Counter> refused = new EnumMap<>(Refusal.class);
    private final Counter retriesHeld;
    private final Counter clientsLost;
    private final Counter willsPublished;
    private final Map<String, Counter> downlink = new java.util.HashMap<>();
    private final Timer publishLatency;
    private final MeterRegistry registry;
    private final Gauge inFlightGauge;

    GatewayMetrics(MeterRegistry registry, int port, Supplier<Number> inFlight) {
        String portTag = Integer.toString(port);
        received = Counter.builder("mqttsn.datagrams.received").tag("port", portTag)
                .description("UDP datagrams received").register(registry);
        for (DropReason reason : DropReason.values()) {
            dropped.put(reason, Counter.builder("mqttsn.datagrams.dropped").tag("port", portTag).tag("reason", reason.label())
                    .description("Datagrams dropped without a reply, by reason").register(registry));
        }
        for (int rc = 0; rc < publishes.length; rc++) {
            publishes[rc] = Counter.builder("mqttsn.publishes").tag("port", portTag).tag("result", ReturnCode.label(rc))
                    .description("PUBLISH messages by the return code they were answered with").register(registry);
        }
        unknownClient = Counter.builder("mqttsn.publishes").tag("port", portTag).tag("result", "unknown_client")
                .description("PUBLISH messages by the return code they were answered with").register(registry);
        for (Refusal reason : Refusal.values()) {
            refused.put(reason, Counter.builder("mqttsn.refused").tag("port", portTag).tag("reason", reason.label())
                    .description("Valid messages refused by a limit and answered with a return code, by reason").register(registry));
        }
        retriesHeld = Counter.builder("mqttsn.retries.held").tag("port", portTag)
                .description("DUP retries of a reading still waiting for its answer: not published again, answered with the first's outcome")
                .register(registry);
        clientsLost = Counter.builder("mqttsn.clients.lost").tag("port", portTag)
                .description("Clients this instance found lost: keep-alive or sleep expired, or a protocol error")
                .register(registry);
        willsPublished = Counter.builder("mqttsn.wills.published").tag("port", portTag)
                .description("Wills of lost clients published through the route").register(registry);
        for (String result : new String[] {"sent", "kept", "not_delivered", "no_subscriber", "retried", "dropped", "refused"}) {
            downlink.put(result, Counter.builder("mqttsn.downlink").tag("port", portTag).tag("result", result)
                    .description("Messages for devices by what became of them: sent, kept for a sleeping client, not"
                                 + " delivered (client gone), no subscriber, retried, dropped after the last attempt,"
                                 + " refused by the client").register(registry));
        }
        storeErrors = Counter.builder("mqttsn.store.errors").tag("port", portTag)
                .description("Redis/Valkey commands that failed or timed out").register(registry);
        publishLatency = Timer.builder("mqttsn.publish.latency").tag("port", portTag)
                .description("From datagram received to the route's completion (PUBACK sent)")
                .publishPercentileHistogram().register(registry);
        this.registry = registry;
        inFlightGauge = Gauge.builder("mqttsn.inflight", inFlight).tag("port", portTag)
                .description("Readings received and not yet confirmed by the route").register(registry);
    }

    /** Removes the gauge, which reads this consumer: a consumer that replaces it (route file edited) registers its own. */
    void close() {
        registry.remove(inFlightGauge);
    }

    void received() {
        received.increment();
    }

    void dropped(DropReason reason) {
        dropped.get(reason).increment();
    }

    void published(int returnCode, long receivedAtNanos) {
        publishes[returnCode & 3].increment();
        publishLatency.record(System.nanoTime() - receivedAtNanos, TimeUnit.NANOSECONDS);
    }

    void rejected(int returnCode) {
        publishes[returnCode & 3].increment();
    }

    void unknownClient() {
        unknownClient.increment();
    }

    void refused(Refusal reason) {
        refused.get(reason).increment();
    }

    void retryHeld() {
        retriesHeld.increment();
    }

    void clientLost() {
        clientsLost.increment();
    }

    void willPublished() {
        willsPublished.increment();
    }

    void downlink(String result) {
        downlink(result, 1);
    }

    void downlink(String result, int count) {
        if (count > 0) {
            downlink.get(result).increment(count);
        }
    }

    void storeError() {
        storeErrors.increment();
    }
}
