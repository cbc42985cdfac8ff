package org.iotgateway.devservices;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.hivemq.embedded.EmbeddedHiveMQ;
import org.apache.camel.util.FileUtil;
import org.apache.qpid.server.SystemLauncher;
import org.iotgateway.DevServiceNeeds;
import org.iotgateway.DevServiceNeeds.Service;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.embedded.RedisServer;

/**
 * The stand-ins {@code mvn camel:run} starts when no service address is configured: an in-JVM AMQP 0-9-1 broker
 * (Apache Qpid Broker-J, in memory), a Redis server (a child process that stops with the JVM) and an in-JVM MQTT 5
 * broker (HiveMQ Community Edition, in memory). Loaded by name, so the packaged application, whose class path lacks
 * them, never touches this class. The brokers' work folders are temporary and go with them.
 */
public final class EmbeddedServices implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedServices.class);

    private final DevServiceNeeds needs;
    private SystemLauncher broker;
    private EmbeddedHiveMQ mqtt;
    private RedisServer redis;
    private Thread redisReaper;
    private final List<Path> workFolders = new ArrayList<>();

    public EmbeddedServices(DevServiceNeeds needs) throws Exception {
        this.needs = needs;
        try {
            if (needs.needs(Service.AMQP)) {
                int port = freePort();
                broker = startBroker(port, workFolder("embedded-amqp"));
                List<String> settings = needs.provide(Service.AMQP, "amqp://guest:guest@127.0.0.1:" + port + "//");
                LOG.info("Started an embedded AMQP 0-9-1 broker (Qpid Broker-J, in memory) on 127.0.0.1:{}: "
                        + "set {} to use a real RabbitMQ", port, settings);
            }
            if (needs.needs(Service.VALKEY)) {
                int port = freePort();
                redis = RedisServer.newRedisServer().bind("127.0.0.1").port(port)
                        .setting("save \"\"").setting("appendonly no").onShutdownForceStop(true).build();
                redis.start();
                redisReaper = new Thread(this::stopRedis, "embedded-redis-reaper");
                Runtime.getRuntime().addShutdownHook(redisReaper);
                List<String> settings = needs.provide(Service.VALKEY, "valkey://127.0.0.1:" + port + "/0");
                LOG.info("Started an embedded Redis on 127.0.0.1:{}: set {} to use a real Redis/Valkey", port, settings);
            }
            if (needs.needs(Service.MQTT)) {
                int port = freePort();
                mqtt = startMqttBroker(port, workFolder("embedded-mqtt"));
                List<String> settings = needs.provide(Service.MQTT, "tcp://127.0.0.1:" + port);
                LOG.info("Started an embedded MQTT 5 broker (HiveMQ CE, in memory) on 127.0.0.1:{}: "
                        + "set {} to use a real broker", port, settings);
            }
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private Path workFolder(String prefix) throws IOException {
        Path folder = Files.createTempDirectory(prefix);
        workFolders.add(folder);
        return folder;
    }

    private static EmbeddedHiveMQ startMqttBroker(int port, Path work) throws Exception {
        Path config = Files.createDirectories(work.resolve("conf"));
        Files.writeString(config.resolve("config.xml"), """
                <?xml version="1.0"?>
                <hivemq>
                    <listeners>
                        <tcp-listener><port>%d</port><bind-address>127.0.0.1</bind-address></tcp-listener>
                    </listeners>
                    <persistence><mode>in-memory</mode></persistence>
                    <!-- HiveMQ drops a subscriber's messages beyond 1000 waiting for it by default: a burst would lose some -->
                    <mqtt><queued-messages><max-queue-size>100000</max-queue-size></queued-messages></mqtt>
                    <anonymous-usage-statistics><enabled>false</enabled></anonymous-usage-statistics>
                </hivemq>
                """.formatted(port));
        EmbeddedHiveMQ hivemq = EmbeddedHiveMQ.builder()
                .withConfigurationFolder(config)
                .withDataFolder(Files.createDirectories(work.resolve("data")))
                .withExtensionsFolder(Files.createDirectories(work.resolve("extensions")))
                .withoutLoggingBootstrap()
                .build();
        try {
            hivemq.start().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            // its threads would keep the JVM alive
            hivemq.close();
            throw e;
        }
        return hivemq;
    }

    private static SystemLauncher startBroker(int port, Path work) throws Exception {
        Path config = work.resolve("config.json");
        Files.writeString(config, """
                {
                  "name": "embedded-broker",
                  "modelVersion": "9.0",
                  "authenticationproviders": [{
                    "name": "plain", "type": "Plain", "secureOnlyMechanisms": [],
                    "users": [{"name": "guest", "password": "guest", "type": "managed"}]
                  }],
                  "ports": [{
                    "name": "AMQP", "port": "%d", "bindingAddress": "127.0.0.1", "authenticationProvider": "plain",
                    "virtualhostaliases": [
                      {"name": "nameAlias", "type": "nameAlias"},
                      {"name": "defaultAlias", "type": "defaultAlias"}
                    ]
                  }],
                  "virtualhostnodes": [{
                    "name": "default", "type": "Memory", "defaultVirtualHostNode": "true",
                    "virtualHostInitialConfiguration": "{\\"type\\": \\"Memory\\"}"
                  }]
                }
                """.formatted(port));
        // Qpid's defaults live at classpath: URLs, which only its own launcher can open: give it files instead
        Path systemProperties = Files.writeString(work.resolve("system.properties"), "");
        Map<String, Object> attributes = new HashMap<>();
        attributes.put("type", "Memory");
        attributes.put("initialSystemPropertiesLocation", systemProperties.toUri().toString());
        attributes.put("initialConfigurationLocation", config.toUri().toString());
        attributes.put("startupLoggedToSystemOut", false);
        attributes.put("qpid.work_dir", work.toString());
        SystemLauncher launcher = new SystemLauncher();
        launcher.startup(attributes);
        return launcher;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private void stopRedis() {
        try {
            if (redis != null) {
                redis.stop();
            }
        } catch (IOException e) {
            LOG.warn("Stopping the embedded Redis: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        if (mqtt != null) {
            try {
                mqtt.stop().get(20, TimeUnit.SECONDS);
                mqtt.close();
            } catch (Exception e) {
                LOG.warn("Stopping the embedded MQTT broker: {}", e.toString());
            }
            mqtt = null;
            needs.withdraw(Service.MQTT);
        }
        if (broker != null) {
            try {
                broker.shutdown();
            } catch (IllegalStateException alreadyStopped) {
                // Qpid's own shutdown hook stops it first when the JVM is shutting down (SIGTERM under mvn camel:run)
            }
            broker = null;
            needs.withdraw(Service.AMQP);
        }
        if (redis != null) {
            stopRedis();
            redis = null;
            needs.withdraw(Service.VALKEY);
            try {
                if (redisReaper != null) {
                    Runtime.getRuntime().removeShutdownHook(redisReaper);
                }
            } catch (IllegalStateException alreadyShuttingDown) {
                // the hook is running or has run
            }
        }
        workFolders.forEach(folder -> FileUtil.removeDir(folder.toFile()));
        workFolders.clear();
        LOG.info("Embedded services stopped");
    }
}
