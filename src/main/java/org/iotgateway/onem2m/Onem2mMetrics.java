package org.iotgateway.onem2m;

import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The meters of one direction of the binding ({@code direction="mqtt_to_http"|"http_to_mqtt"}): requests, responses by
 * {@code rsc}, timeouts, requests answered busy, and the time from a request's arrival to its response.
 */
final class Onem2mMetrics {

    private final MeterRegistry registry;
    private final String direction;
    private final Counter requests;
    private final Counter timeouts;
    private final Counter busy;
    private final Timer duration;

    Onem2mMetrics(MeterRegistry registry, String direction) {
        this.registry = registry;
        this.direction = direction;
        this.requests = Counter.builder("onem2m.requests").tag("direction", direction)
                .description("oneM2M requests received").register(registry);
        this.timeouts = Counter.builder("onem2m.timeouts").tag("direction", direction)
                .description("oneM2M requests whose target did not answer in time").register(registry);
        this.busy = Counter.builder("onem2m.busy").tag("direction", direction)
                .description("oneM2M requests answered busy (HTTP 503): the most allowed were waiting already").register(registry);
        this.duration = Timer.builder("onem2m.request.duration").tag("direction", direction)
                .description("From a request's arrival to its response").publishPercentileHistogram().register(registry);
    }

    void request() {
        requests.increment();
    }

    void timeout() {
        timeouts.increment();
    }

    void busy() {
        busy.increment();
    }

    void response(int rsc, long startedNanos) {
        Counter.builder("onem2m.responses").tag("direction", direction).tag("rsc", Integer.toString(rsc))
                .description("oneM2M responses by status code").register(registry).increment();
        duration.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
    }
}
