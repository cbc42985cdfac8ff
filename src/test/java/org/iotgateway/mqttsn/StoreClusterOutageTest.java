package org.iotgateway.mqttsn;

import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.RedisCluster;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The store on a Redis Cluster whose every node goes at once (a Cluster's client connection stays open through it):
 * readiness goes DOWN saying no master answers, and UP again when the nodes are back, where a device is served again.
 */
class StoreClusterOutageTest {

    @Test
    void should_be_unready_while_no_master_answers_and_ready_again_when_the_cluster_is_back() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        try (RedisCluster cluster = new RedisCluster(Path.of("target", "store-cluster-outage", run), 3, 0);
             RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string", cluster.url()))) {
            await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));

            cluster.killAll();
            await().atMost(15, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("no master of the Redis Cluster"));
            assertThat(gateway.readiness()).contains("DOWN").contains("no master of the Redis Cluster at 127.0.0.1:");

            cluster.restartAll();
            await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));
            try (UdpClient device = UdpClient.atOwnAddress(gateway.udpPort())) {
                device.connectRegisterPublish("after-" + run, "outage/" + run, "back");
            }
        }
    }
}
