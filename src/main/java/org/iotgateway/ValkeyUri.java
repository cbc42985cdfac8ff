package org.iotgateway;

import java.io.File;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.resource.ClientResources;

/**
 * The Redis/Valkey connection strings the original gateways accept, for the MQTT-SN store and the Channels layer:
 * <ul>
 * <li>{@code redis://}, {@code valkey://}; with TLS {@code rediss://}, {@code valkeys://}, and redis-py's TLS query
 * arguments: {@code ssl_ca_certs} (CA file, PEM), {@code ssl_certfile} and {@code ssl_keyfile} (client certificate and
 * its key, PEM), {@code ssl_cert_reqs=none} (no verification) and {@code ssl_check_hostname=false} (the CA only);</li>
 * <li>Sentinel: {@code redis-sentinel://[:password@]host:26379[,host2:26379]/db#master} ({@code valkey-sentinel://}
 * too; {@code rediss-sentinel://} for TLS), or channels_redis's own hosts entry, as JSON or as the Python literal of
 * the Django settings: {@code {"sentinels": [("host", 26379)], "master_name": "mymaster", "db": 0, "password": "…"}}.</li>
 * </ul>
 * A Sentinel connection string asks the sentinels for the master at each (re)connection, so a failover is followed.
 * A plain one may name a node of a Redis Cluster, which the MQTT-SN store then uses as a Cluster
 * ({@link #clusterClient}).
 */
public final class ValkeyUri {

    private static final List<String> TLS_ARGUMENTS = List.of("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs",
            "ssl_check_hostname");

    private ValkeyUri() {
    }

    public static RedisURI parse(String connectionString) {
        return parsed(connectionString).uri;
    }

    /** A client of that connection string: its address, and TLS as it says, added to {@code options}. */
    public static RedisClient client(String connectionString, ClientResources resources, ClientOptions.Builder options) {
        Parsed parsed = parsed(connectionString);
        RedisClient client = resources == null ? RedisClient.create(parsed.uri) : RedisClient.create(resources, parsed.uri);
        if (parsed.ssl != null) {
            options.sslOptions(parsed.ssl);
        }
        client.setOptions(options.build());
        return client;
    }

    /**
     * A client of a Redis Cluster, the connection string naming one of its nodes: it learns the others from that one,
     * with TLS as the string says, added to {@code options}.
     */
    public static RedisClusterClient clusterClient(String connectionString, ClientResources resources,
                                                   ClusterClientOptions.Builder options) {
        Parsed parsed = parsed(connectionString);
        if (parsed.uri.getSentinelMasterId() != null) {
            throw new IllegalArgumentException("A Sentinel connection string names a master, not a Cluster node");
        }
        RedisClusterClient client = RedisClusterClient.create(resources, parsed.uri);
        if (parsed.ssl != null) {
            options.sslOptions(parsed.ssl);
        }
        client.setOptions(options.build());
        return client;
    }

    /** Whether a server is a Redis Cluster node, given its {@code INFO cluster}. */
    public static boolean isCluster(String clusterInfo) {
        return clusterInfo != null && clusterInfo.lines().anyMatch(line -> line.strip().equals("cluster_enabled:1"));
    }

    /**
     * Refuses a Redis Cluster node for the Channels layer, given its {@code INFO cluster}: channels_redis, which the
     * worker shares the layer with, cannot run on a Cluster (its scripts reach keys of several hash slots), so no Django
     * process could reach the worker there; a single master with replicas, followed through Sentinel, is what it runs on.
     *
     * @throws IllegalStateException naming the server and what to use instead
     */
    public static void refuseCluster(String clusterInfo, String server) {
        if (isCluster(clusterInfo)) {
            throw new IllegalStateException(server + " is a Redis Cluster node (cluster_enabled:1): channels_redis cannot"
                    + " run on a Redis Cluster, so no Django process could share it; use one master with replicas, through"
                    + " Sentinel (redis-sentinel://) for failover");
        }
    }

    /** {@link #refuseCluster(String, String)} on a new connection; the client is shut down when refused. */
    public static void refuseCluster(RedisClient client, StatefulRedisConnection<?, ?> connection, String server) {
        try {
            refuseCluster(connection.sync().info("cluster"), server);
        } catch (IllegalStateException e) {
            client.shutdown();
            throw e;
        }
    }

    public static RedisClient client(String connectionString) {
        return client(connectionString, null, ClientOptions.builder());
    }

    /** Where it connects, without its password: for logs and readiness. */
    public static String describe(RedisURI uri) {
        if (uri.getSentinelMasterId() != null) {
            return "master '" + uri.getSentinelMasterId() + "' of the sentinels " + uri.getSentinels().stream()
                    .map(sentinel -> sentinel.getHost() + ":" + sentinel.getPort()).collect(Collectors.joining(","));
        }
        return (uri.isSsl() ? "TLS " : "") + uri.getHost() + ":" + uri.getPort();
    }

    private record Parsed(RedisURI uri, SslOptions ssl) {
    }

    private static Parsed parsed(String connectionString) {
        String text = connectionString.trim();
        if (text.startsWith("{")) {
            return new Parsed(channelsRedisSentinel(text), null);
        }
        for (String[] alias : new String[][] {{"valkey://", "redis://"}, {"valkeys://", "rediss://"},
                {"valkey-sentinel://", "redis-sentinel://"}, {"valkeys-sentinel://", "rediss-sentinel://"}}) {
            if (text.startsWith(alias[0])) {
                text = alias[1] + text.substring(alias[0].length());
            }
        }
        Map<String, String> tls = new LinkedHashMap<>();
        int query = text.indexOf('?');
        if (query >= 0) {
            int fragment = text.indexOf('#', query);
            String arguments = fragment < 0 ? text.substring(query + 1) : text.substring(query + 1, fragment);
            List<String> kept = new ArrayList<>();
            for (String argument : arguments.split("&")) {
                String name = argument.contains("=") ? argument.substring(0, argument.indexOf('=')) : argument;
                if (TLS_ARGUMENTS.contains(name)) {
                    tls.put(name, URLDecoder.decode(argument.substring(name.length() + 1), StandardCharsets.UTF_8));
                } else if (!argument.isEmpty()) {
                    kept.add(argument);
                }
            }
            text = text.substring(0, query) + (kept.isEmpty() ? "" : "?" + String.join("&", kept))
                    + (fragment < 0 ? "" : text.substring(fragment));
        }
        RedisURI uri = RedisURI.create(text);
        if (!tls.isEmpty() && !uri.isSsl()) {
            throw new IllegalArgumentException("TLS arguments " + tls.keySet() + " in a connection string without TLS: use rediss://"
                    + " or valkeys://");
        }
        return new Parsed(uri, uri.isSsl() ? sslOptions(uri, tls) : null);
    }

    private static SslOptions sslOptions(RedisURI uri, Map<String, String> tls) {
        String certReqs = tls.getOrDefault("ssl_cert_reqs", "required").toLowerCase(Locale.ROOT);
        if (certReqs.equals("none")) {
            uri.setVerifyPeer(SslVerifyMode.NONE);
        } else if (!Boolean.parseBoolean(tls.getOrDefault("ssl_check_hostname", "true"))) {
            uri.setVerifyPeer(SslVerifyMode.CA);
        }
        SslOptions.Builder ssl = SslOptions.builder().jdkSslProvider();
        if (tls.containsKey("ssl_ca_certs")) {
            ssl.trustManager(readable(tls.get("ssl_ca_certs"), "ssl_ca_certs"));
        }
        if (tls.containsKey("ssl_certfile") != tls.containsKey("ssl_keyfile")) {
            throw new IllegalArgumentException("ssl_certfile and ssl_keyfile go together: a client certificate needs its key");
        }
        if (tls.containsKey("ssl_certfile")) {
            ssl.keyManager(readable(tls.get("ssl_certfile"), "ssl_certfile"), readable(tls.get("ssl_keyfile"), "ssl_keyfile"), null);
        }
        return ssl.build();
    }

    private static File readable(String path, String argument) {
        File file = new File(path);
        if (!file.canRead()) {
            throw new IllegalArgumentException(argument + " names " + path + ", which cannot be read");
        }
        return file;
    }

    /** channels_redis's {@code {"sentinels": [...], "master_name": ...}} hosts entry (JSON or the Python literal). */
    private static RedisURI channelsRedisSentinel(String entry) {
        JsonNode hosts;
        try {
            hosts = new ObjectMapper().readTree(entry.replace('(', '[').replace(')', ']').replace('\'', '"')
                    .replace("None", "null").replace("True", "true").replace("False", "false"));
        } catch (Exception e) {
            throw new IllegalArgumentException("Not a channels_redis hosts entry (JSON or Python literal): " + e.getMessage(), e);
        }
        if (!hosts.path("sentinels").isArray() || hosts.path("sentinels").isEmpty() || !hosts.path("master_name").isTextual()) {
            throw new IllegalArgumentException("A channels_redis hosts entry here names \"sentinels\" (a list of [host, port])"
                    + " and \"master_name\"");
        }
        RedisURI.Builder builder = null;
        for (JsonNode sentinel : hosts.path("sentinels")) {
            String host = sentinel.path(0).asText();
            int port = sentinel.path(1).asInt(26379);
            builder = builder == null ? RedisURI.Builder.sentinel(host, port, hosts.path("master_name").asText())
                    : builder.withSentinel(host, port);
        }
        builder.withDatabase(hosts.path("db").asInt(0));
        if (hosts.path("password").isTextual()) {
            builder.withPassword(hosts.path("password").asText().toCharArray());
        }
        if (hosts.path("sentinel_kwargs").path("password").isTextual()) {
            RedisURI uri = builder.build();
            uri.getSentinels().forEach(sentinel -> sentinel.setPassword(hosts.path("sentinel_kwargs").path("password").asText()));
            return uri;
        }
        return builder.build();
    }
}
