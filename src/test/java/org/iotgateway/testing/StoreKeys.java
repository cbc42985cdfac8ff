package org.iotgateway.testing;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The MQTT-SN store's key names as docs/scaling.md states them, for tests that look into the store: the plain names on
 * one server; on a Redis Cluster the client's bucket (the CRC-32 of its id's UTF-8 bytes, modulo 256) as a hash tag
 * after the prefix, and per-bucket deadlines and subscriber indexes.
 */
public record StoreKeys(boolean cluster) {

    public static final StoreKeys SINGLE_SERVER = new StoreKeys(false);
    public static final StoreKeys CLUSTER = new StoreKeys(true);

    /** A key of the client's: {@code client("session:", id)}. */
    public String client(String prefix, String clientId) {
        return prefix + tag(clientId) + clientId;
    }

    /** The index of the filter's subscribers that holds this client. */
    public String subscribers(String filter, String clientId) {
        return "subscribers:" + tag(clientId) + filter;
    }

    /** The sorted set that holds the client's keep-alive deadline. */
    public String deadlines(String clientId) {
        return cluster ? "mqttsn:deadlines:{" + bucket(clientId) + "}" : "mqttsn:deadlines";
    }

    private String tag(String clientId) {
        return cluster ? "{" + bucket(clientId) + "}:" : "";
    }

    private static long bucket(String clientId) {
        CRC32 crc = new CRC32();
        crc.update(clientId.getBytes(StandardCharsets.UTF_8));
        return crc.getValue() % 256;
    }
}
