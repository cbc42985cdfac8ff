package org.iotgateway.testing;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import org.iotgateway.ValkeyUri;

/**
 * A test's own connection to the gateway's Redis/Valkey, to read and change what the store holds; a client of the
 * whole Cluster when the server is a Cluster node, {@link #keys()} then naming the keys as the store does there.
 */
public final class StoreClient implements AutoCloseable {

    private final AbstractRedisClient client;
    private final StatefulConnection<String, String> connection;
    private final RedisClusterCommands<String, String> commands;
    private final StoreKeys keys;

    public StoreClient(String valkeyUrl) {
        RedisClient single = RedisClient.create(ValkeyUri.parse(valkeyUrl));
        StatefulRedisConnection<String, String> server = single.connect();
        if (ValkeyUri.isCluster(server.sync().info("cluster"))) {
            server.close();
            single.shutdown();
            RedisClusterClient cluster = RedisClusterClient.create(ValkeyUri.parse(valkeyUrl));
            StatefulRedisClusterConnection<String, String> clustered = cluster.connect();
            client = cluster;
            connection = clustered;
            commands = clustered.sync();
            keys = StoreKeys.CLUSTER;
        } else {
            client = single;
            connection = server;
            commands = server.sync();
            keys = StoreKeys.SINGLE_SERVER;
        }
    }

    public RedisClusterCommands<String, String> commands() {
        return commands;
    }

    public StoreKeys keys() {
        return keys;
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown();
    }
}
