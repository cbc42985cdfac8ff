package org.iotgateway.mqttsn;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

import com.rabbitmq.client.Delivery;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import org.awaitility.Awaitility;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StoreClient;
import org.iotgateway.testing.StoreKeys;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.message;

/**
 * The session of MQTT-SN 1.2 beyond CONNECT and PUBLISH (will, keep-alive, QoS 2, sleep, discovery) with two gateway
 * instances sharing one store and one RabbitMQ, as behind a UDP load balancer: each device's packets go to one
 * instance or the other, and what one instance learns the other acts on. Real UDP, real Redis and RabbitMQ.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionLifecycleTest {

    static RunningGateway a;
    static RunningGateway b;
    static StoreClient store;
    static RedisClusterCommands<String, String> redis;
    static StoreKeys keys;
    Map<String, String> storeSettings;

    AmqpQueue wills;
    UdpClient device;
    String clientId;

    /** The store the instances share: the run's, unless a subclass starts one of its own and names it here. */
    Map<String, String> storeSettings() throws Exception {
        return Map.of();
    }

    /** Stops the store a subclass started. */
    void stopStore() throws Exception {
    }

    @BeforeAll
    void startTwoInstances() throws Exception {
        storeSettings = storeSettings();
        a = RunningGateway.startOnly("mqttsn", storeSettings);
        b = RunningGateway.startOnly("mqttsn", storeSettings);
        store = new StoreClient(a.valkeyUrl());
        redis = store.commands();
        keys = store.keys();
    }

    @AfterAll
    void stopInstances() throws Exception {
        store.close();
        b.close();
        a.close();
        stopStore();
    }

    @BeforeEach
    void newDevice() throws Exception {
        clientId = "dev-" + UUID.randomUUID().toString().substring(0, 8);
        device = UdpClient.atOwnAddress(a.udpPort());
        wills = new AmqpQueue(a.amqpUrl(), "mqtt-sn", "#", "test-" + UUID.randomUUID());
    }

    @AfterEach
    void close() throws Exception {
        device.close();
        wills.close();
    }

    /** CONNECT with the Will flag through A, WILLTOPIC through B, WILLMSG through A: CONNACK after the will. */
    void connectWithWill(int keepAliveSeconds, String willTopic, String willMessage) throws Exception {
        String keepAlive = "%02x %02x".formatted(keepAliveSeconds >> 8, keepAliveSeconds & 0xff);
        assertThat(device.via(a.udpPort()).exchange(message("04 0c 01 " + keepAlive, clientId))).isEqualTo("02 06");
        assertThat(device.via(b.udpPort()).exchange(message("07 20", willTopic))).isEqualTo("02 08");
        assertThat(device.via(a.udpPort()).exchange(message("09", willMessage))).isEqualTo("03 05 00");
    }

    /** The next message on the exchange for this test's client, skipping other tests' traffic. */
    Delivery nextOf(String routingKey, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (long left = timeout.toNanos(); left > 0; left = deadline - System.nanoTime()) {
            Delivery delivery = wills.next(Duration.ofNanos(left));
            if (delivery != null && delivery.getEnvelope().getRoutingKey().equals(routingKey)) {
                return delivery;
            }
        }
        return null;
    }

    @Test
    void should_publish_the_will_of_a_client_whose_keep_alive_expired_once_with_two_instances() throws Exception {
        connectWithWill(2, "wills/" + clientId, "gone");
        assertThat(redis.hgetall(keys.client("will:", clientId))).containsEntry("topic", "wills/" + clientId).containsEntry("flags", "32");

        // pings through either instance keep the client alive past twice its keep-alive
        for (int i = 0; i < 5; i++) {
            Thread.sleep(1000);
            assertThat(device.via(i % 2 == 0 ? b.udpPort() : a.udpPort()).exchange(message("16", ""))).isEqualTo("02 17");
        }
        assertThat(nextOf("wills." + clientId, Duration.ZERO)).as("no will while the client pings").isNull();

        // silent: lost after 2 s × 1.5 (the specification's tolerance under a minute) and the check's slack
        Delivery will = nextOf("wills." + clientId, Duration.ofSeconds(10));
        assertThat(will).as("will published").isNotNull();
        assertThat(new String(will.getBody(), StandardCharsets.UTF_8)).isEqualTo("gone");
        assertThat(will.getProperties().getHeaders().get("client_id")).hasToString(clientId);
        assertThat(will.getProperties().getHeaders().get("qos")).hasToString("1");
        assertThat(nextOf("wills." + clientId, Duration.ofSeconds(3))).as("exactly once, by one instance").isNull();
        assertThat(redis.exists(keys.client("will:", clientId))).isZero();
        assertThat(redis.zscore(keys.deadlines(clientId), clientId)).isNull();
        assertThat(redis.hget(keys.client("session:", clientId), "state")).isEqualTo("lost");
    }

    @Test
    void should_publish_the_will_through_the_others_when_the_instance_the_client_connected_to_stops() throws Exception {
        try (RunningGateway c = RunningGateway.startOnly("mqttsn", storeSettings)) {
            device.via(c.udpPort());
            assertThat(device.exchange(message("04 0c 01 00 02", clientId))).isEqualTo("02 06");
            assertThat(device.exchange(message("07 20", "wills/" + clientId))).isEqualTo("02 08");
            assertThat(device.exchange(message("09", "instance gone"))).isEqualTo("03 05 00");
        }
        Delivery will = nextOf("wills." + clientId, Duration.ofSeconds(10));
        assertThat(will).as("published by A or B").isNotNull();
        assertThat(new String(will.getBody(), StandardCharsets.UTF_8)).isEqualTo("instance gone");
        assertThat(nextOf("wills." + clientId, Duration.ofSeconds(3))).as("once").isNull();
    }

    @Test
    void should_not_publish_the_will_after_a_clean_disconnect() throws Exception {
        connectWithWill(1, "wills/" + clientId, "gone");
        assertThat(device.via(b.udpPort()).exchange(message("18", ""))).isEqualTo("02 18");
        assertThat(nextOf("wills." + clientId, Duration.ofSeconds(5))).isNull();
        assertThat(redis.exists(keys.client("will:", clientId))).isZero();
        assertThat(redis.hget(keys.client("session:", clientId), "state")).isEqualTo("disconnected");
        assertThat(redis.zscore(keys.deadlines(clientId), clientId)).isNull();
    }

    @Test
    void should_publish_the_will_at_once_when_the_client_breaks_the_protocol() throws Exception {
        connectWithWill(3600, "wills/" + clientId, "broken");
        // the instance knows the client from its CONNECT: a PUBLISH whose length field lies is a protocol error
        device.via(a.udpPort()).send(HexFormat.ofDelimiter(" ").parseHex("09 0c 20 00 01"));
        Delivery will = nextOf("wills." + clientId, Duration.ofSeconds(5));
        assertThat(will).isNotNull();
        assertThat(new String(will.getBody(), StandardCharsets.UTF_8)).isEqualTo("broken");
    }

    @Test
    void should_update_the_will_topic_and_message_and_delete_the_will_with_an_empty_topic() throws Exception {
        connectWithWill(3600, "wills/old", "old");
        assertThat(device.via(b.udpPort()).exchange(message("1a 00", "wills/" + clientId))).isEqualTo("03 1b 00");
        assertThat(device.via(a.udpPort()).exchange(message("1c", "new"))).isEqualTo("03 1d 00");
        assertThat(redis.hgetall(keys.client("will:", clientId))).containsEntry("topic", "wills/" + clientId).containsEntry("flags", "0");
        assertThat(device.exchange(message("1a 00", "wills/+"))).as("a wildcard will topic").isEqualTo("03 1b 03");

        device.via(b.udpPort()).send(HexFormat.ofDelimiter(" ").parseHex("03 18 00"));
        Delivery will = nextOf("wills." + clientId, Duration.ofSeconds(5));
        assertThat(new String(will.getBody(), StandardCharsets.UTF_8)).isEqualTo("new");
        assertThat(will.getProperties().getHeaders().get("qos")).hasToString("0");

        String second = clientId + "b";
        assertThat(device.exchange(message("04 0c 01 0e 10", second))).isEqualTo("02 06");
        assertThat(device.exchange(message("07 00", "wills/" + second))).isEqualTo("02 08");
        assertThat(device.exchange(message("09", "x"))).isEqualTo("03 05 00");
        assertThat(device.exchange(message("1a", ""))).as("empty WILLTOPICUPD").isEqualTo("03 1b 00");
        assertThat(redis.exists(keys.client("will:", second))).isZero();
    }

    @Test
    void should_connect_without_a_will_when_willtopic_is_empty() throws Exception {
        assertThat(device.exchange(message("04 0c 01 00 3c", clientId))).isEqualTo("02 06");
        assertThat(device.via(b.udpPort()).exchange(message("07", ""))).isEqualTo("03 05 00");
        assertThat(redis.exists(keys.client("will:", clientId))).isZero();
    }

    @Test
    void should_route_a_qos2_publish_once_whatever_is_resent_through_either_instance() throws Exception {
        assertThat(device.exchange(message("04 04 01 00 3c", clientId))).isEqualTo("03 05 00");
        String topic = "q2/" + clientId;
        assertThat(device.via(b.udpPort()).exchange(message("0a 00 00 00 01", topic))).isEqualTo("07 0b 00 01 00 01 00");

        assertThat(device.via(a.udpPort()).exchange(message("0c 40 00 01 12 34", "once"))).isEqualTo("04 0f 12 34");
        // the PUBREC was lost: the client sends the PUBLISH again (DUP), to the other instance
        assertThat(device.via(b.udpPort()).exchange(message("0c c0 00 01 12 34", "once"))).isEqualTo("04 0f 12 34");
        assertThat(device.via(b.udpPort()).exchange(message("10 12 34", ""))).isEqualTo("04 0e 12 34");
        // the PUBCOMP was lost: PUBREL again, answered again
        assertThat(device.via(a.udpPort()).exchange(message("10 12 34", ""))).isEqualTo("04 0e 12 34");

        Delivery first = nextOf("q2." + clientId, Duration.ofSeconds(5));
        assertThat(new String(first.getBody(), StandardCharsets.UTF_8)).isEqualTo("once");
        assertThat(first.getProperties().getMessageId()).isEqualTo(clientId + ":4660");
        assertThat(nextOf("q2." + clientId, Duration.ofSeconds(2))).as("routed exactly once").isNull();

        // after PUBCOMP the message id is free: the next PUBLISH with it is a new message
        assertThat(device.exchange(message("0c 40 00 01 12 34", "again"))).isEqualTo("04 0f 12 34");
        assertThat(new String(nextOf("q2." + clientId, Duration.ofSeconds(5)).getBody(), StandardCharsets.UTF_8)).isEqualTo("again");
        assertThat(device.exchange(message("0c 40 00 07 12 35", "no"))).as("unknown topic id").isEqualTo("07 0d 00 07 12 35 02");
        assertThat(redis.hexists(keys.client("qos2:", clientId), "4661")).as("a refused one is forgotten").isFalse();
    }

    @Test
    void should_keep_a_sleeping_client_that_wakes_within_its_sleep_and_lose_one_that_does_not() throws Exception {
        connectWithWill(3600, "wills/" + clientId, "slept too long");
        assertThat(device.via(a.udpPort()).exchange(message("18 00 02", ""))).as("asleep for 2 s").isEqualTo("02 18");
        Awaitility.await().atMost(Duration.ofSeconds(2)).untilAsserted(() ->
                assertThat(redis.hget(keys.client("session:", clientId), "state")).isEqualTo("asleep"));
        for (int i = 0; i < 4; i++) {
            Thread.sleep(1500);
            // awake: PINGREQ with its client id, to either instance
            assertThat(device.via(i % 2 == 0 ? b.udpPort() : a.udpPort()).exchange(message("16", clientId))).isEqualTo("02 17");
        }
        assertThat(nextOf("wills." + clientId, Duration.ZERO)).isNull();
        Delivery will = nextOf("wills." + clientId, Duration.ofSeconds(10));
        assertThat(will).as("lost after sleeping past its duration").isNotNull();
        assertThat(new String(will.getBody(), StandardCharsets.UTF_8)).isEqualTo("slept too long");
    }

    @Test
    void should_advertise_to_the_configured_address_and_answer_searchgw() throws Exception {
        try (DatagramSocket listener = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
             RunningGateway advertising = RunningGateway.startOnly("mqttsn", Map.of(
                     "mqttsn.advertise-address", "127.0.0.1:" + listener.getLocalPort(),
                     "mqttsn.advertise-interval-seconds", "1"))) {
            listener.setSoTimeout(5000);
            for (int i = 0; i < 2; i++) {
                DatagramPacket packet = new DatagramPacket(new byte[16], 16);
                listener.receive(packet);
                assertThat(HexFormat.ofDelimiter(" ").formatHex(packet.getData(), 0, packet.getLength()))
                        .isEqualTo("05 00 01 00 01");
                assertThat(packet.getPort()).isEqualTo(advertising.udpPort());
            }
            assertThat(device.via(advertising.udpPort()).exchange(message("01 00", ""))).isEqualTo("03 02 01");
        }
    }
}
