package org.iotgateway.mqttsn;

import java.nio.file.Path;
import java.util.Map;

import org.iotgateway.testing.RedisCluster;

/**
 * {@link DownlinkTest}'s specification, whole, with the store on a Redis Cluster of three masters: subscriptions,
 * fan-out, retries, QoS 2 and sleeping devices work the same when the clients' keys are spread over the masters by
 * their buckets, and two instances learn each other's subscriptions from every master's invalidations.
 */
class DownlinkOnClusterTest extends DownlinkTest {

    RedisCluster cluster;

    @Override
    Map<String, String> storeSettings() throws Exception {
        cluster = new RedisCluster(Path.of("target", "downlink-cluster"), 3, 0);
        return Map.of("mqttsn.valkey-connection-string", cluster.url());
    }

    @Override
    void stopStore() throws Exception {
        cluster.close();
    }
}
