package org.iotgateway.mqttsn;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.Arrivals;
import org.iotgateway.testing.Meter;
import org.iotgateway.testing.SentinelSet;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.iotgateway.testing.Vectors.message;

/**
 * The store behind Redis Sentinel (a master, a replica and three sentinels of the test's own, as Debian runs them).
 * The master's process is killed while a meter publishes; the sentinels promote the replica, and the gateway, which
 * asks them for the master whenever it reconnects, carries on with it: every acknowledged reading is in RabbitMQ, the
 * meter is never refused, readiness comes back, and a device that connects afterwards is written to the new master.
 * The figures are printed for docs/scaling.md.
 */
class StoreFailoverTest {

    @Test
    void should_lose_no_acknowledged_reading_when_sentinel_fails_the_store_over_to_its_replica() throws Exception {
        Path dir = Path.of("target", "store-failover");
        String run = UUID.randomUUID().toString().substring(0, 8);
        try (SentinelSet store = new SentinelSet("meters", dir)) {
            try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string", store.url()));
                 AmqpQueue readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "failover." + run + ".#", "failover-" + run)) {
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));
                Meter meter = new Meter("failover-" + run, "failover/" + run, UdpClient.atOwnAddress(gateway.udpPort()), 50, 500, 60);
                Thread publishing = new Thread(meter, "meter");
                publishing.start();
                await().atMost(10, TimeUnit.SECONDS).until(() -> meter.acknowledged().size() >= 20);
                await().atMost(10, TimeUnit.SECONDS).alias("the replica has the meter's session")
                        .until(() -> store.replica().cli("lrange", "topic:failover-" + run, "0", "-1").contains("failover/" + run));

                long killed = System.nanoTime();
                Duration promoted = store.killMaster();
                await().atMost(30, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(50)).until(() -> gateway.readiness().contains("UP"));
                long ready = System.nanoTime();
                long acknowledgedWhenReady = meter.acknowledged().size();
                await().atMost(10, TimeUnit.SECONDS).until(() -> meter.acknowledged().size() >= acknowledgedWhenReady + 20);

                try (UdpClient newcomer = UdpClient.atOwnAddress(gateway.udpPort())) {
                    assertThat(newcomer.exchange(message("04 04 01 00 3c", "newcomer-" + run))).isEqualTo("03 05 00");
                    assertThat(store.replica().cli("get", "client:" + newcomer.localAddress())).as("written to the new master")
                            .isEqualTo("newcomer-" + run);
                }
                meter.stop();
                publishing.join();

                Arrivals arrived = Arrivals.drain(readings, Duration.ofSeconds(2));
                Set<String> lost = arrived.lost(meter.acknowledged());
                System.out.printf("Store failover: replica promoted %d ms after the master was killed, gateway ready %d ms"
                                + " after; meter acknowledged again %d ms after the kill; %d readings acknowledged, %d lost,"
                                + " %d duplicates, %d retries (%d after congestion)%n",
                        promoted.toMillis(), TimeUnit.NANOSECONDS.toMillis(ready - killed),
                        TimeUnit.NANOSECONDS.toMillis(meter.firstAckAfter(killed)), meter.acknowledged().size(), lost.size(),
                        arrived.duplicates(), meter.retries(), meter.congestions());
                assertThat(lost).as("acknowledged readings missing from RabbitMQ").isEmpty();
                assertThat(meter.refusals()).as("refusals (a device would reconnect)").isEmpty();
                assertThat(meter.abandoned()).isZero();
            }
        }
    }
}
