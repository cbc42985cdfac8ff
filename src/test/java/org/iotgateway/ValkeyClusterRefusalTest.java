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
 * A Redis Cluster node given as the MQTT-SN store or the Channels layer is refused at start, saying so, instead of
 * failing reading by reading with MOVED and CROSSSLOT errors: the store's scripts, and channels_redis's own that the
 * Channels layer shares, reach keys of several hash slots.
 */
class ValkeyClusterRefusalTest {

    @Test
    void should_read_cluster_enabled_from_info_cluster() {
        ValkeyUri.refuseCluster("# Cluster\r\ncluster_enabled:0\r\n", "The store");
        assertThatThrownBy(() -> ValkeyUri.refuseCluster("# Cluster\r\ncluster_enabled:1\r\n", "The store (127.0.0.1:7000)"))
                .hasMessageStartingWith("The store (127.0.0.1:7000) is a Redis Cluster node (cluster_enabled:1): Redis Cluster"
                        + " is not supported");
    }

    @Test
    void should_keep_the_mqtt_sn_group_and_the_channels_group_unready_naming_a_cluster_node_they_were_given() throws Exception {
        Path dir = Files.createTempDirectory("redis-cluster-node");
        try (RedisServer node = RedisServer.start(Path.of("target", "cluster-refusal", "redis.log"), "--cluster-enabled", "yes",
                "--cluster-config-file", dir.resolve("nodes.conf").toString(), "--dir", dir.toString())) {
            String url = "redis://127.0.0.1:" + node.port() + "/0";
            try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string", url))) {
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("is a Redis Cluster node"));
                assertThat(gateway.readiness()).contains("The store (127.0.0.1:" + node.port() + ") is a Redis Cluster node"
                        + " (cluster_enabled:1): Redis Cluster is not supported");
            }
            try (RunningGateway gateway = RunningGateway.startOnly("channels", Map.of("channels.redis-url", url))) {
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("is a Redis Cluster node"));
                assertThat(gateway.readiness()).contains("The channel layer's Redis (127.0.0.1:" + node.port() + ") is a Redis"
                        + " Cluster node (cluster_enabled:1): Redis Cluster is not supported");
            }
        }
    }
}
