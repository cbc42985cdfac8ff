package org.iotgateway.mqttsn;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.Arrivals;
import org.iotgateway.testing.Meter;
import org.iotgateway.testing.FailingOverStore;
import org.iotgateway.testing.RedisCluster;
import org.iotgateway.testing.SentinelSet;
import org.iotgateway.testing.StoreKeys;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.iotgateway.testing.Vectors.message;

/**
 * The store fails over while a meter publishes, of the test's own on loopback as Debian runs Redis: behind Sentinel (a
 * master, a replica and three sentinels), and as a Redis Cluster (three masters with a replica each). The process of
 * the master that holds the meter's session is killed; a replica takes over, and the gateway carries on with it (it
 * asks the sentinels for the master whenever it reconnects; it learns the Cluster's new layout from the failed
 * reconnections): every acknowledged reading is in RabbitMQ, the meter is never refused, readiness comes back, and a
 * device that connects afterwards is written to the store. The figures are printed for docs/scaling.md.
 */
class StoreFailoverTest {

    static Stream<Arguments> stores() {
        return Stream.of(
                Arguments.of(Named.of("behind Sentinel", (StoreFactory) dir -> new SentinelSet("meters", dir))),
                Arguments.of(Named.of("as a Redis Cluster", (StoreFactory) dir -> new RedisCluster(dir, 3, 1))));
    }

    interface StoreFactory {
        FailingOverStore start(Path dir) throws Exception;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stores")
    void should_lose_no_acknowledged_reading_when_the_store_fails_over_to_a_replica(StoreFactory stores) throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        Path dir = Path.of("target", "store-failover", run);
        try (FailingOverStore store = stores.start(dir)) {
            StoreKeys keys = store.cluster() ? StoreKeys.CLUSTER : StoreKeys.SINGLE_SERVER;
            String topics = keys.client("topic:", "failover-" + run);
            try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string", store.url()));
                 AmqpQueue readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "failover." + run + ".#", "failover-" + run)) {
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));
                Meter meter = new Meter("failover-" + run, "failover/" + run, UdpClient.atOwnAddress(gateway.udpPort()), 50, 500, 60);
                Thread publishing = new Thread(meter, "meter");
                publishing.start();
                await().atMost(10, TimeUnit.SECONDS).until(() -> meter.acknowledged().size() >= 20);
                await().atMost(10, TimeUnit.SECONDS).alias("the replica has the meter's session")
                        .until(() -> store.readOnReplica(topics, "lrange", topics, "0", "-1").contains("failover/" + run));

                long killed = System.nanoTime();
                Duration promoted = store.killMasterOf(topics);
                await().atMost(30, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(50)).until(() -> gateway.readiness().contains("UP"));
                long ready = System.nanoTime();
                long acknowledgedWhenReady = meter.acknowledged().size();
                await().atMost(10, TimeUnit.SECONDS).until(() -> meter.acknowledged().size() >= acknowledgedWhenReady + 20);

                try (UdpClient newcomer = UdpClient.atOwnAddress(gateway.udpPort())) {
                    // as a device would: CONNACK "congestion" (a Cluster node that has not yet seen the new layout) is retried
                    await().atMost(10, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(500))
                            .until(() -> newcomer.exchange(message("04 04 01 00 3c", "newcomer-" + run)), "03 05 00"::equals);
                    assertThat(store.cli("get", "client:" + newcomer.localAddress())).as("written to the store")
                            .isEqualTo("newcomer-" + run);
                }
                meter.stop();
                publishing.join();

                Arrivals arrived = Arrivals.drain(readings, Duration.ofSeconds(2));
                Set<String> lost = arrived.lost(meter.acknowledged());
                System.out.printf("Store failover (%s): replica promoted %d ms after the master was killed, gateway ready %d ms"
                                + " after; meter acknowledged again %d ms after the kill; %d readings acknowledged, %d lost,"
                                + " %d duplicates, %d retries (%d after congestion)%n",
                        store.cluster() ? "Cluster" : "Sentinel", promoted.toMillis(), TimeUnit.NANOSECONDS.toMillis(ready - killed),
                        TimeUnit.NANOSECONDS.toMillis(meter.firstAckAfter(killed)), meter.acknowledged().size(), lost.size(),
                        arrived.duplicates(), meter.retries(), meter.congestions());
                assertThat(lost).as("acknowledged readings missing from RabbitMQ").isEmpty();
                assertThat(meter.refusals()).as("refusals (a device would reconnect)").isEmpty();
                assertThat(meter.abandoned()).isZero();
            }
        }
    }
}
