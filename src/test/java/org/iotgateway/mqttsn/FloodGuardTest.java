package org.iotgateway.mqttsn;

import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The flood guard's token buckets, on a clock the test moves: per ip by default, per ip:port when asked, bounded. */
class FloodGuardTest {

    static final long MILLI = 1_000_000L;

    static InetSocketAddress source(String ip, int port) {
        return new InetSocketAddress(ip, port);
    }

    static int admitted(FloodGuard guard, InetSocketAddress source, int datagrams, long at) {
        int admitted = 0;
        for (int i = 0; i < datagrams; i++) {
            admitted += guard.admit(source, at) ? 1 : 0;
        }
        return admitted;
    }

    @Test
    void should_admit_a_burst_of_the_limit_then_refill_at_the_limit_per_second() {
        FloodGuard guard = new FloodGuard(100, false);
        long start = System.nanoTime();
        assertThat(admitted(guard, source("192.0.2.1", 1000), 150, start)).isEqualTo(100);
        assertThat(admitted(guard, source("192.0.2.1", 1000), 50, start + 100 * MILLI)).as("10 tokens in 100 ms").isEqualTo(10);
        assertThat(admitted(guard, source("192.0.2.1", 1000), 150, start + 5000 * MILLI)).as("full again, never more").isEqualTo(100);
    }

    @Test
    void should_count_every_port_of_an_ip_together_unless_clients_are_keyed_by_port() {
        FloodGuard perIp = new FloodGuard(10, false);
        FloodGuard perPort = new FloodGuard(10, true);
        long now = System.nanoTime();
        int ipAdmitted = 0;
        int portAdmitted = 0;
        for (int port = 1; port <= 50; port++) {
            ipAdmitted += admitted(perIp, source("192.0.2.1", port), 10, now);
            portAdmitted += admitted(perPort, source("192.0.2.1", port), 10, now);
        }
        assertThat(ipAdmitted).isEqualTo(10);
        assertThat(portAdmitted).isEqualTo(500);
        assertThat(admitted(perIp, source("192.0.2.2", 1), 10, now)).as("another ip has its own budget").isEqualTo(10);
    }

    @Test
    void should_forget_refilled_sources_and_make_newcomers_share_one_bucket_beyond_the_most_tracked() {
        FloodGuard guard = new FloodGuard(5, false);
        long now = System.nanoTime();
        for (int i = 0; i < FloodGuard.MAX_SOURCES; i++) {
            guard.admit(source("10." + (i >> 16) + "." + ((i >> 8) & 255) + "." + (i & 255), 1), now);
        }
        assertThat(guard.trackedSources()).isEqualTo(FloodGuard.MAX_SOURCES);
        assertThat(admitted(guard, source("192.0.2.9", 1), 3, now) + admitted(guard, source("192.0.2.10", 1), 3, now))
                .as("two newcomers share one bucket of 5").isEqualTo(5);
        assertThat(admitted(guard, source("10.0.0.7", 1), 4, now)).as("a known source keeps its own").isEqualTo(4);

        guard.admit(source("192.0.2.11", 1), now + 2000 * MILLI);
        assertThat(guard.trackedSources()).as("all refilled after 2 s: forgotten").isEqualTo(1);
    }
}
