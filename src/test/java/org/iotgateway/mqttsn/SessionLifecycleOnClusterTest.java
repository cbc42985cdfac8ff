package org.iotgateway.mqttsn;

import java.nio.file.Path;
import java.util.Map;

import org.iotgateway.testing.RedisCluster;

/**
 * {@link SessionLifecycleTest}'s specification, whole, with the store on a Redis Cluster of three masters: wills are
 * published once, QoS 2 is routed once and sleeping clients are supervised when the deadlines are kept per bucket on
 * the masters and both instances sweep every bucket.
 */
class SessionLifecycleOnClusterTest extends SessionLifecycleTest {

    RedisCluster cluster;

    @Override
    Map<String, String> storeSettings() throws Exception {
        cluster = new RedisCluster(Path.of("target", "session-cluster"), 3, 0);
        return Map.of("mqttsn.valkey-connection-string", cluster.url());
    }

    @Override
    void stopStore() throws Exception {
        cluster.close();
    }
}
