package org.iotgateway.testing;

import java.util.HashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * Where the tests' RabbitMQ and Redis come from, in this order: the servers named by IT_AMQP_URL and IT_VALKEY_URL
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
        if (amqp != null && valkey != null) {
            selected.put("mqttsn.amqp-connection-string", amqp);
            selected.put("mqttsn.valkey-connection-string", valkey);
            LOG.info("Tests use RabbitMQ {} and Redis {}", amqp, valkey);
        } else if (DockerClientFactory.instance().isDockerAvailable()) {
            RabbitMQContainer rabbitmq = new RabbitMQContainer("rabbitmq:3.13");
            GenericContainer<?> redis = new GenericContainer<>("valkey/valkey:8").withExposedPorts(6379);
            rabbitmq.start();
            redis.start();
            selected.put("mqttsn.amqp-connection-string",
                    "amqp://guest:guest@" + rabbitmq.getHost() + ":" + rabbitmq.getAmqpPort() + "//");
            selected.put("mqttsn.valkey-connection-string",
                    "valkey://" + redis.getHost() + ":" + redis.getMappedPort(6379) + "/0");
            LOG.info("Tests use RabbitMQ and Valkey in containers: {}", selected);
        } else {
            LOG.info("No IT_AMQP_URL/IT_VALKEY_URL and no Docker: tests use the application's embedded stand-ins");
        }
        return Map.copyOf(selected);
    }
}
