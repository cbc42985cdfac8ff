package org.iotgateway.mqttsn.store;

import io.lettuce.core.RedisURI;

/** Reads the connection strings the Python gateway accepts: {@code valkey://} and {@code valkeys://} as well as {@code redis://}. */
public final class ValkeyUri {

    private ValkeyUri() {
    }

    public static RedisURI parse(String connectionString) {
        String uri = connectionString.trim();
        if (uri.startsWith("valkey://")) {
            uri = "redis://" + uri.substring("valkey://".length());
        } else if (uri.startsWith("valkeys://")) {
            uri = "rediss://" + uri.substring("valkeys://".length());
        }
        return RedisURI.create(uri);
    }
}
