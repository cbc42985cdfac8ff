package org.iotgateway.mqttsn;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import com.rabbitmq.client.Delivery;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StoreClient;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.message;

/**
 * Devices behind one IP address with the default settings (the Python gateway's {@code client:{ip}} keys): each
 * packet is attributed to the session of the exact address it came from, and a packet that cannot be attributed
 * is answered DISCONNECT instead of being published under another device's name.
 */
class SharedAddressTest {

    static final String DISCONNECT = "02 18";
    static RunningGateway gateway;
    static StoreClient store;
    static RedisClusterCommands<String, String> redis;

    AmqpQueue readings;

    @BeforeAll
    static void startGateway() throws Exception {
        gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.predefined-topics", "7=alarms/shared"));
        store = new StoreClient(gateway.valkeyUrl());
        redis = store.commands();
    }

    @AfterAll
    static void stopGateway() {
        store.close();
        gateway.close();
    }

    @BeforeEach
    void openQueue() throws Exception {
        readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "#", "shared-" + UUID.randomUUID());
    }

    @AfterEach
    void closeQueue() throws Exception {
        readings.close();
    }

    @Test
    void should_keep_two_devices_behind_one_ip_apart_and_refuse_a_packet_from_a_port_that_never_connected() throws Exception {
        redis.del("clients-at:127.0.0.1");
        try (UdpClient deviceA = new UdpClient(gateway.udpPort());
             UdpClient deviceB = new UdpClient(gateway.udpPort());
             UdpClient stranger = new UdpClient(gateway.udpPort())) {
            assertThat(deviceA.exchange(message("04 04 01 00 3c", "devA"))).isEqualTo("03 05 00");
            assertThat(deviceA.exchange(message("0a 00 00 00 01", "mr/devA/reading"))).isEqualTo("07 0b 00 01 00 01 00");
            assertThat(deviceB.exchange(message("04 04 01 00 3c", "devB"))).isEqualTo("03 05 00");
            assertThat(deviceB.exchange(message("0a 00 00 00 01", "mr/devB/other"))).isEqualTo("07 0b 00 01 00 01 00");

            assertThat(deviceA.exchange(message("0c 20 00 01 00 02", "a1"))).isEqualTo("07 0d 00 01 00 02 00");
            assertReading("mr.devA.reading", "a1", "devA");
            assertThat(deviceB.exchange(message("0c 20 00 01 00 02", "b1"))).isEqualTo("07 0d 00 01 00 02 00");
            assertReading("mr.devB.other", "b1", "devB");
            // QoS -1 needs no session, but takes the client id only from the sender's own
            deviceA.send(message("0c 61 00 07 00 00", "a2"));
            assertReading("alarms.shared", "a2", "devA");

            assertThat(redis.get("client:127.0.0.1")).as("the Python gateway's key: the last CONNECT").isEqualTo("devB");
            assertThat(redis.get("client:127.0.0.1:" + deviceB.localPort())).as("once the address is shared, a CONNECT binds its port")
                    .isEqualTo("devB");
            assertThat(redis.smembers("clients-at:127.0.0.1")).containsExactlyInAnyOrder("devA", "devB");

            assertThat(stranger.exchange(message("0c 20 00 01 00 03", "s1"))).as("A's or B's? neither").isEqualTo(DISCONNECT);
            assertThat(stranger.exchange(message("0a 00 00 00 04", "mr/x"))).isEqualTo(DISCONNECT);
            stranger.send(message("0c 61 00 07 00 00", "s2"));
            Delivery anonymous = readings.next(Duration.ofSeconds(5));
            assertThat(anonymous.getBody()).asString(StandardCharsets.UTF_8).isEqualTo("s2");
            assertThat(anonymous.getProperties().getHeaders()).doesNotContainKey("client_id");
            assertThat(readings.next(Duration.ofMillis(300))).as("nothing published for the stranger's QoS 1").isNull();
        }
    }

    @Test
    void should_follow_a_lone_device_to_a_new_port_after_its_nat_rebinds() throws Exception {
        redis.del("client:127.0.0.2", "clients-at:127.0.0.2");
        try (UdpClient before = new UdpClient("127.0.0.2", gateway.udpPort());
             UdpClient after = new UdpClient("127.0.0.2", gateway.udpPort())) {
            assertThat(before.exchange(message("04 04 01 00 3c", "devLone"))).isEqualTo("03 05 00");
            assertThat(before.exchange(message("0a 00 00 00 01", "mr/devLone/reading"))).isEqualTo("07 0b 00 01 00 01 00");
            assertThat(after.exchange(message("0c 20 00 01 00 02", "moved"))).isEqualTo("07 0d 00 01 00 02 00");
            assertReading("mr.devLone.reading", "moved", "devLone");
            assertThat(redis.keys("client:127.0.0.2:*")).as("a lone device leaves no key per NAT port").isEmpty();
        }
    }

    private void assertReading(String routingKey, String body, String clientId) throws InterruptedException {
        Delivery delivery = readings.next(Duration.ofSeconds(5));
        assertThat(delivery).as(body).isNotNull();
        assertThat(delivery.getEnvelope().getRoutingKey()).isEqualTo(routingKey);
        assertThat(delivery.getBody()).asString(StandardCharsets.UTF_8).isEqualTo(body);
        assertThat(delivery.getProperties().getHeaders().get("client_id")).hasToString(clientId);
    }
}
