package org.iotgateway.mqttsn;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import org.iotgateway.rabbitmq.AmqpUrl;
import org.iotgateway.testing.Arrivals;
import org.iotgateway.testing.Meter;
import org.iotgateway.testing.RabbitMqCluster;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The readings go to a three-node RabbitMQ cluster (Debian's rabbitmq-server, nodes of the test's own), named as the
 * Python gateway names one: kombu's failover list. The readings' queue is a quorum queue, as a cluster's consumers
 * declare one. The node the gateway is connected to is stopped while a meter publishes: every acknowledged reading is
 * in the queue, the meter is never refused, and readiness comes back within 10 s. The figures are printed for
 * docs/scaling.md.
 */
class BrokerClusterTest {

    @Test
    void should_lose_no_acknowledged_reading_when_the_node_it_publishes_to_stops() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String queue = "cluster-readings-" + run;
        try (RabbitMqCluster cluster = new RabbitMqCluster(3, Path.of("target", "rabbitmq-cluster-" + run))) {
            try (Connection admin = AmqpUrl.parse(cluster.url(cluster.nodes().get(0))).connectionFactory().newConnection("test admin")) {
                Channel channel = admin.createChannel();
                channel.exchangeDeclare("mqtt-sn", "topic", true);
                channel.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
                channel.queueBind(queue, "mqtt-sn", "cluster." + run + ".#");
            }
            try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.amqp-connection-string", cluster.kombuUrl(),
                    "mqttsn.downlink-queue", "mqttsn-downlink-" + run, "mqttsn.downlink-queue-type", "quorum"))) {
                await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));
                Meter meter = new Meter("cluster-" + run, "cluster/" + run, UdpClient.atOwnAddress(gateway.udpPort()), 50, 500, 60);
                Thread publishing = new Thread(meter, "meter");
                publishing.start();
                await().atMost(10, TimeUnit.SECONDS).until(() -> meter.acknowledged().size() >= 20);

                RabbitMqCluster.Node connected = publishingNode(cluster);
                long stopped = System.nanoTime();
                cluster.stop(connected);
                long stopReturned = System.nanoTime();
                await().atMost(10, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(50)).until(() -> gateway.readiness().contains("UP"));
                long ready = System.nanoTime();
                int acknowledgedWhenReady = meter.acknowledged().size();
                await().atMost(10, TimeUnit.SECONDS).until(() -> meter.acknowledged().size() >= acknowledgedWhenReady + 20);
                meter.stop();
                publishing.join();

                RabbitMqCluster.Node survivor = cluster.nodes().stream().filter(node -> node != connected).findFirst().orElseThrow();
                Arrivals arrived = new Arrivals();
                try (Connection reader = AmqpUrl.parse(cluster.url(survivor)).connectionFactory().newConnection("test reader")) {
                    Channel channel = reader.createChannel();
                    GetResponse message;
                    while ((message = channel.basicGet(queue, true)) != null) {
                        arrived.add(message.getBody());
                    }
                }
                Set<String> lost = arrived.lost(meter.acknowledged());
                System.out.printf("Broker cluster: node %s stopped (rabbitmqctl shutdown took %d ms); gateway ready %d ms after"
                                + " the stop began; meter acknowledged again %d ms after; %d readings acknowledged, %d lost,"
                                + " %d duplicates, %d retries (%d after congestion)%n",
                        connected.name(), TimeUnit.NANOSECONDS.toMillis(stopReturned - stopped),
                        TimeUnit.NANOSECONDS.toMillis(ready - stopped), TimeUnit.NANOSECONDS.toMillis(meter.firstAckAfter(stopped)),
                        meter.acknowledged().size(), lost.size(), arrived.duplicates(),
                        meter.retries(), meter.congestions());
                assertThat(lost).as("acknowledged readings missing from the quorum queue").isEmpty();
                assertThat(meter.refusals()).as("refusals (a device would reconnect)").isEmpty();
                assertThat(meter.abandoned()).isZero();
                assertThat(TimeUnit.NANOSECONDS.toSeconds(ready - stopped)).as("seconds until ready again").isLessThan(10);
            }
        }
    }

    /** The node the meter ingest's connection is on: the one whose AMQP port its connection names. */
    private static RabbitMqCluster.Node publishingNode(RabbitMqCluster cluster) throws Exception {
        // name is "client -> server address:port"; the client properties carry the name the gateway gave it
        String connections = cluster.ctl(cluster.nodes().get(0), "list_connections", "-q", "name", "client_properties");
        String ingest = connections.lines().filter(line -> line.contains("iot-gateway meter ingest")).findFirst()
                .orElseThrow(() -> new AssertionError("no meter ingest connection in:\n" + connections));
        String server = ingest.substring(ingest.indexOf("-> ") + 3).split("[\\s\\t]")[0];
        return cluster.nodes().stream().filter(node -> server.endsWith(":" + node.port())).findFirst()
                .orElseThrow(() -> new AssertionError("no node for " + ingest));
    }
}
