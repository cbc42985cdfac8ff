package org.iotgateway.testing;

import java.time.Duration;

/** Redis with replicas that take over a master that dies: as Sentinel runs it, or as a Cluster does for its slots. */
public interface FailingOverStore extends AutoCloseable {

    /** The connection string the gateway is given. */
    String url();

    /** Whether the store is a Cluster, whose key names carry a bucket ({@link StoreKeys}). */
    boolean cluster();

    /** What redis-cli prints for a read of the key on a replica of its master, one of which replaces it when it dies. */
    String readOnReplica(String key, String... command) throws Exception;

    /** Kills the process of the master that holds the key and waits until a replica took over; how long that took. */
    Duration killMasterOf(String key) throws Exception;

    /** What redis-cli prints for a command to the master that holds the command's key now. */
    String cli(String... command) throws Exception;
}
