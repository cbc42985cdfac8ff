package org.iotgateway.mqttsn;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.Arrivals;
import org.iotgateway.testing.GatewayProcess;
import org.iotgateway.testing.Meter;
import org.iotgateway.testing.StallingProxy;
import org.iotgateway.testing.UdpClient;
import org.iotgateway.testing.UdpLoadBalancer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Three packaged gateways, each on a host of its own (a network namespace), behind the Linux kernel's UDP balancing as
 * kube-proxy does it, sharing one Redis and one RabbitMQ. Meters at addresses of their own publish QoS 1 readings through
 * the service address; one gateway is killed (SIGKILL) while they do, and its endpoint removed a second later.
 * Every acknowledged reading is in RabbitMQ, and the meters it served carry on through the others without reconnecting.
 * The figures are printed for docs/scaling.md.
 */
class ScaleOutIT {

    static final int INSTANCES = 3;
    static final int METERS = 30;
    /** Each meter's reading period, and the device's QoS 1 retry interval (short, for the test's sake). */
    static final long PERIOD_MILLIS = 100;
    static final int RETRY_MILLIS = 1_000;
    static final int MAX_ATTEMPTS = 20;
    static final long RUN_MILLIS = 12_000;
    static final long KILL_AT_MILLIS = 4_000;
    /** Between the gateway's death and the balancer's forgetting it: what the kubelet and kube-proxy take, at least. */
    static final long ENDPOINT_REMOVAL_MILLIS = 1_000;

    @Test
    void should_lose_no_acknowledged_reading_when_one_of_three_balanced_instances_is_killed() throws Exception {
        assumeThat(System.getenv("IT_AMQP_URL")).as("the CI servers (.ci/services)").isNotNull();
        assumeThat(UdpLoadBalancer.available() || System.getenv("CI") != null).as("root, nft and conntrack").isTrue();
        String run = UUID.randomUUID().toString().substring(0, 8);
        List<GatewayProcess> gateways = new ArrayList<>();
        try (UdpLoadBalancer balancer = new UdpLoadBalancer(2883, INSTANCES, METERS);
             StallingProxy store = StallingProxy.at(UdpLoadBalancer.HOST_ADDRESS, System.getenv("IT_VALKEY_URL"));
             StallingProxy broker = StallingProxy.at(UdpLoadBalancer.HOST_ADDRESS, System.getenv("IT_AMQP_URL"));
             AmqpQueue readings = new AmqpQueue(System.getenv("IT_AMQP_URL"), "mqtt-sn", "scale." + run + ".#", "scale-" + run);
             // closed first: the gateways stop while their network and servers are still there
             AutoCloseable stopGateways = () -> {
                 for (GatewayProcess gateway : gateways) {
                     gateway.close();
                 }
             }) {
            for (int instance = 1; instance <= INSTANCES; instance++) {
                gateways.add(GatewayProcess.start(UdpLoadBalancer.onBackend(instance), UdpLoadBalancer.backendAddress(instance),
                        Map.of("GATEWAY_GROUPS", "mqttsn", "MQTTSN_HOST", "0.0.0.0", "MQTTSN_PORT", "2883",
                                "MQTTSN_VALKEY_CONNECTION_STRING", store.url(), "MQTTSN_AMQP_CONNECTION_STRING", broker.url()),
                        Path.of("target", "scale-out", "gateway-" + instance + ".log")));
            }
            for (GatewayProcess gateway : gateways) {
                gateway.awaitReady(Duration.ofSeconds(90));
            }

            List<Meter> meters = new ArrayList<>();
            for (int m = 0; m < METERS; m++) {
                meters.add(new Meter("so-" + run + "-" + m, "scale/" + run + "/" + m,
                        new UdpClient(UdpLoadBalancer.deviceAddress(m), balancer.serviceAddress()), PERIOD_MILLIS, RETRY_MILLIS, MAX_ATTEMPTS));
            }
            long start = System.nanoTime();
            List<Thread> threads = meters.stream().map(meter -> new Thread(meter, "meter-" + meter.address())).toList();
            threads.forEach(Thread::start);

            Thread.sleep(KILL_AT_MILLIS);
            // the instance with the most meters' flows
            Map<Integer, Set<String>> metersOf = balancer.devicesByBackend();
            for (int instance = 1; instance <= INSTANCES; instance++) {
                assertThat(gateways.get(instance - 1).metric("mqttsn_publishes_total", "result=\"accepted\""))
                        .as("readings instance %d took before the kill", instance).isPositive();
            }
            int victim = metersOf.entrySet().stream().max(Map.Entry.comparingByValue((a, b) -> a.size() - b.size()))
                    .orElseThrow().getKey();
            Set<String> orphans = metersOf.get(victim);
            long killedAt = System.nanoTime();
            gateways.get(victim - 1).kill();
            Thread.sleep(ENDPOINT_REMOVAL_MILLIS);
            balancer.remove(victim);

            Thread.sleep(Math.max(0, RUN_MILLIS - (System.nanoTime() - start) / 1_000_000));
            meters.forEach(Meter::stop);
            for (Thread thread : threads) {
                thread.join();
            }

            Set<String> acknowledged = new HashSet<>();
            meters.forEach(meter -> acknowledged.addAll(meter.acknowledged()));
            Arrivals arrived = Arrivals.drain(readings, Duration.ofSeconds(3));
            Set<String> lost = arrived.lost(acknowledged);
            int duplicates = arrived.duplicates();
            List<Long> recoveries = new ArrayList<>();
            for (Meter meter : meters) {
                if (orphans.contains(meter.address())) {
                    recoveries.add(meter.firstAckAfter(killedAt) / 1_000_000);
                }
            }
            Collections.sort(recoveries);
            long retries = meters.stream().mapToLong(meter -> meter.retries()).sum();
            long strays = meters.stream().mapToLong(Meter::strayReplies).sum();
            System.out.printf("Scale-out: %d instances, %d meters, %d readings acknowledged, %d arrived (%d duplicates), "
                            + "%d lost; instance %d killed with %d meters' flows; their first acknowledgement after the kill "
                            + "came %d ms (median) to %d ms (max) later; %d retries in all; %d replies from a backend's own"
                            + " address dropped%n",
                    INSTANCES, METERS, acknowledged.size(), arrived.total(),
                    duplicates, lost.size(), victim, orphans.size(),
                    recoveries.get(recoveries.size() / 2), recoveries.get(recoveries.size() - 1), retries, strays);

            assertThat(lost).as("acknowledged readings missing from RabbitMQ").isEmpty();
            assertThat(meters).allSatisfy(meter -> {
                assertThat(meter.refusals()).as("refusals (a device would reconnect)").isEmpty();
                assertThat(meter.abandoned()).as("readings given up after %d attempts", MAX_ATTEMPTS).isZero();
            });
            assertThat(meters).filteredOn(meter -> orphans.contains(meter.address()))
                    .as("each orphaned meter acknowledged again").allSatisfy(meter -> assertThat(meter.firstAckAfter(killedAt))
                            .as("%s: %d acknowledged, %d retries", meter.address(), meter.acknowledged().size(), meter.retries())
                            .isPositive());
            assertThat(acknowledged.size()).isGreaterThan(METERS * (int) (RUN_MILLIS / PERIOD_MILLIS) / 2);
        }
    }
}
