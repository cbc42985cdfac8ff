package org.iotgateway.testing;

import java.util.HashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * Where the tests' RabbitMQ, Redis and MQTT broker come from, in this order: the servers named by IT_AMQP_URL,
 * IT_VALKEY_URL and IT_MQTT_URL
 * (.ci/services starts them), containers when Docker is available, else nothing: the application then starts its
 * embedded stand-ins. Containers are started once per test run and stopped with the JVM.
 */
final class TestServices {

    private static final Logger LOG = LoggerFactory.getLogger(TestServices.class);
    private static Map<String, String> addresses;

    private TestServices() {
    }

    /** Property overrides that point the application at the selected services (empty: embedded). */
    static synchronized Map<String, String> addresses() {
        if (addresses == null) {
            addresses = select();
        }
        return addresses;
    }

    private static Map<String, String> select() {
        Map<String, String> selected = new HashMap<>();
        String amqp = System.getenv("IT_AMQP_URL");
        String valkey = System.getenv("IT_VALKEY_URL");
        String mqtt = System.getenv("IT_MQTT_URL");
        boolean docker = (amqp == null || valkey == null || mqtt == null) && DockerClientFactory.instance().isDockerAvailable();
        if (amqp == null && docker) {
            RabbitMQContainer rabbitmq = new RabbitMQContainer("rabbitmq:3.13");
            rabbitmq.start();
            amqp = "amqp://guest:guest@" + rabbitmq.getHost() + ":" + rabbitmq.getAmqpPort() + "//";
        }
        if (valkey == null && docker) {
            GenericContainer<?> redis = new GenericContainer<>("valkey/valkey:8").withExposedPorts(6379);
            redis.start();
            valkey = "valkey://" + redis.getHost() + ":" + redis.getMappedPort(6379) + "/0";
        }
        if (mqtt == null && docker) {
            GenericContainer<?> mosquitto = new GenericContainer<>("eclipse-mosquitto:2.0")
                    .withCommand("mosquitto", "-c", "/mosquitto-no-auth.conf").withExposedPorts(1883);
            mosquitto.start();
            mqtt = "tcp://" + mosquitto.getHost() + ":" + mosquitto.getMappedPort(1883);
        }
        put(selected, "mqttsn.amqp-connection-string", amqp);
        put(selected, "mqttsn.valkey-connection-string", valkey);
        put(selected, "live.mqtt-url", mqtt);
        put(selected, "channels.redis-url", valkey);
        put(selected, "channels.mqtt-url", mqtt);
        put(selected, "onem2m.mqtt-url", mqtt);
        LOG.info("Tests use {} (settings not listed: the application's embedded stand-ins)", selected);
        return Map.copyOf(selected);
    }

    private static void put(Map<String, String> selected, String property, String address) {
        if (address != null) {
            selected.put(property, address);
        }
    }
}
