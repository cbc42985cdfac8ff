package org.iotgateway;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.RedisServer;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What a Redis Cluster node cannot be given for, refused at start with the reason instead of failing message by
 * message with MOVED, CROSSSLOT or CLUSTERDOWN errors: the Channels layer, which channels_redis (the Django side) cannot
 * run on a Cluster; and the MQTT-SN store while the Cluster does not serve every hash slot.
 */
class ValkeyClusterRefusalTest {

    @Test
    void should_read_cluster_enabled_from_info_cluster() {
        assertThat(ValkeyUri.isCluster("# Cluster\r\ncluster_enabled:0\r\n")).isFalse();
        ValkeyUri.refuseCluster("# Cluster\r\ncluster_enabled:0\r\n", "The channel layer's Redis");
        assertThatThrownBy(() -> ValkeyUri.refuseCluster("# Cluster\r\ncluster_enabled:1\r\n", "The channel layer's Redis (127.0.0.1:7000)"))
                .hasMessageStartingWith("The channel layer's Redis (127.0.0.1:7000) is a Redis Cluster node (cluster_enabled:1):"
                        + " channels_redis cannot run on a Redis Cluster");
    }

    @Test
    void should_keep_the_channels_group_and_an_mqtt_sn_group_on_a_cluster_serving_no_slot_unready_saying_why() throws Exception {
        Path dir = Files.createTempDirectory("redis-cluster-node");
        try (RedisServer node = RedisServer.start(Path.of("target", "cluster-refusal", "redis.log"), "--cluster-enabled", "yes",
                "--cluster-config-file", dir.resolve("nodes.conf").toString(), "--dir", dir.toString())) {
            String url = "redis://127.0.0.1:" + node.port() + "/0";
            try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string", url))) {
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("does not serve every hash slot"));
                assertThat(gateway.readiness()).contains("The store (127.0.0.1:" + node.port() + ") is a Redis Cluster that does"
                        + " not serve every hash slot: cluster_state:fail, cluster_slots_assigned:0, cluster_slots_ok:0");
            }
            try (RunningGateway gateway = RunningGateway.startOnly("channels", Map.of("channels.redis-url", url))) {
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("is a Redis Cluster node"));
                assertThat(gateway.readiness()).contains("The channel layer's Redis (127.0.0.1:" + node.port() + ") is a Redis"
                        + " Cluster node (cluster_enabled:1): channels_redis cannot run on a Redis Cluster");
            }
        }
    }
}
