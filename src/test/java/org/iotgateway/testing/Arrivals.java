package org.iotgateway.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import com.rabbitmq.client.Delivery;

/** The readings that reached RabbitMQ, by payload and how many times: what an outage test counts against the acknowledged. */
public final class Arrivals {

    private final Map<String, Integer> counts = new HashMap<>();

    /** Everything the queue delivers until it is quiet for {@code quiet}. */
    public static Arrivals drain(AmqpQueue queue, Duration quiet) throws InterruptedException {
        Arrivals arrivals = new Arrivals();
        Delivery delivery;
        while ((delivery = queue.next(quiet)) != null) {
            arrivals.add(delivery.getBody());
        }
        return arrivals;
    }

    public void add(byte[] payload) {
        counts.merge(new String(payload, StandardCharsets.UTF_8), 1, Integer::sum);
    }

    /** The acknowledged readings that did not arrive. */
    public Set<String> lost(Collection<String> acknowledged) {
        Set<String> lost = new HashSet<>(acknowledged);
        lost.removeAll(counts.keySet());
        return lost;
    }

    /** Arrivals beyond the first of each reading. */
    public int duplicates() {
        return counts.values().stream().mapToInt(count -> count - 1).sum();
    }

    public int total() {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }
}
