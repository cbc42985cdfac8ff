package org.iotgateway.testing;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * Redis as Sentinel runs it, all of the test's own on loopback: a master, a replica and three sentinels (quorum 2)
 * that call the master down after a second of silence. {@link #killMaster()} is the failover's cause.
 */
public final class SentinelSet implements FailingOverStore {

    private final String name;
    private final RedisServer master;
    private final RedisServer replica;
    private final List<RedisServer> sentinels;

    public SentinelSet(String name, Path dir) throws Exception {
        this.name = name;
        this.master = RedisServer.start(dir.resolve("master.log"));
        this.replica = RedisServer.start(dir.resolve("replica.log"), "--replicaof", "127.0.0.1", Integer.toString(master.port()));
        this.sentinels = List.of(RedisServer.sentinel(name, master, 2, dir), RedisServer.sentinel(name, master, 2, dir),
                RedisServer.sentinel(name, master, 2, dir));
        await().atMost(30, TimeUnit.SECONDS).alias("the sentinels know each other and the replica").until(() -> {
            String state = sentinels.get(0).cli("sentinel", "master", name);
            return state.matches("(?s).*num-other-sentinels\\s+2(\\s.*|$)") && state.matches("(?s).*num-slaves\\s+1(\\s.*|$)");
        });
    }

    /** The Lettuce / redis-py form: {@code redis-sentinel://127.0.0.1:p1,…/0#name}. */
    @Override
    public String url() {
        return "redis-sentinel://" + String.join(",", sentinels.stream().map(s -> "127.0.0.1:" + s.port()).toList()) + "/0#" + name;
    }

    /** channels_redis's hosts entry, as a Django settings file writes it. */
    public String channelsRedisHostsEntry() {
        return "{'sentinels': [" + String.join(", ", sentinels.stream().map(s -> "('127.0.0.1', " + s.port() + ")").toList())
                + "], 'master_name': '" + name + "'}";
    }

    @Override
    public boolean cluster() {
        return false;
    }

    public RedisServer replica() {
        return replica;
    }

    @Override
    public String readOnReplica(String key, String... command) throws Exception {
        return replica.cli(command);
    }

    @Override
    public Duration killMasterOf(String key) throws Exception {
        return killMaster();
    }

    @Override
    public String cli(String... command) throws Exception {
        return (master.isAlive() ? master : replica).cli(command);
    }

    /** Kills the master's process and waits until the sentinels have promoted the replica; how long that took. */
    public Duration killMaster() throws Exception {
        long killed = System.nanoTime();
        master.kill();
        await().atMost(30, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(50)).alias("the replica promoted")
                .until(() -> sentinels.get(0).cli("sentinel", "get-master-addr-by-name", name).contains(Integer.toString(replica.port()))
                        && replica.cli("info", "replication").contains("role:master"));
        return Duration.ofNanos(System.nanoTime() - killed);
    }

    @Override
    public void close() throws Exception {
        for (RedisServer sentinel : sentinels) {
            sentinel.close();
        }
        replica.close();
        master.close();
    }
}
