package org.iotgateway.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import org.iotgateway.ValkeyUri;

/** A test's own connection to the gateway's Redis/Valkey, to read and change what the store holds. */
public final class StoreClient implements AutoCloseable {

    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;

    public StoreClient(String valkeyUrl) {
        client = RedisClient.create(ValkeyUri.parse(valkeyUrl));
        connection = client.connect();
    }

    public RedisCommands<String, String> commands() {
        return connection.sync();
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown();
    }
}
