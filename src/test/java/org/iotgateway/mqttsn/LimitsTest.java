package org.iotgateway.mqttsn;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StoreClient;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.iotgateway.testing.Vectors.message;

/**
 * What an unauthenticated sender can make the gateway store is bounded, each limit a setting: a refusal is answered on
 * the wire with a return code, counted by reason in {@code mqttsn_refused_total}, and leaves nothing in the store.
 * Each device here has a loopback address of its own, so that the per-address limits see only it.
 */
class LimitsTest {

    static final String CONNACK_ACCEPTED = "03 05 00";
    static final String CONNACK_CONGESTION = "03 05 01";
    static final String CONNACK_NOT_SUPPORTED = "03 05 03";

    static RunningGateway gateway;
    static StoreClient store;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.startOnly("mqttsn", Map.of(
                "mqttsn.max-topics-per-client", "3",
                "mqttsn.max-clients-per-address", "2",
                "mqttsn.predefined-topics", "9=limits/alarm",
                // 127.0.0.0 to 127.0.0.3: atOwnAddress() never picks one of these
                "mqttsn.qos-minus-one-sources", "127.0.0.0/30"));
        store = new StoreClient(gateway.valkeyUrl());
    }

    @AfterAll
    static void stop() {
        store.close();
        gateway.close();
    }

    @Test
    void should_refuse_a_client_id_longer_than_mqtt_sn_allows_unless_configured() throws Exception {
        String longest = "c" + UUID.randomUUID().toString().replace("-", "").substring(0, 22);
        try (UdpClient device = UdpClient.atOwnAddress(gateway.udpPort())) {
            assertThat(device.exchange(message("04 04 01 00 3c", longest + "x"))).as("24 characters").isEqualTo(CONNACK_NOT_SUPPORTED);
            assertThat(store.commands().exists("session:" + longest + "x")).as("nothing stored").isZero();
            assertThat(device.exchange(message("04 04 01 00 3c", longest))).as("23 characters").isEqualTo(CONNACK_ACCEPTED);
        }
        assertThat(gateway.metrics()).containsPattern("mqttsn_refused_total\\{[^}]*reason=\"client_id_length\"[^}]*} [1-9]");
    }

    @Test
    void should_refuse_a_topic_name_beyond_the_most_a_client_may_register() throws Exception {
        String clientId = "topics-" + UUID.randomUUID().toString().substring(0, 8);
        try (UdpClient device = UdpClient.atOwnAddress(gateway.udpPort())) {
            assertThat(device.exchange(message("04 04 01 00 3c", clientId))).isEqualTo(CONNACK_ACCEPTED);
            for (int id = 1; id <= 3; id++) {
                assertThat(device.exchange(message("0a 00 00 00 0" + id, "limits/" + id))).isEqualTo("07 0b 00 0" + id + " 00 0" + id + " 00");
            }
            assertThat(device.exchange(message("0a 00 00 00 04", "limits/4"))).as("a fourth name").isEqualTo("07 0b 00 00 00 04 03");
            assertThat(device.exchange(message("0a 00 00 00 05", "limits/2"))).as("a name it has").isEqualTo("07 0b 00 02 00 05 00");
            assertThat(store.commands().llen("topic:" + clientId)).isEqualTo(3);
        }
        assertThat(gateway.metrics()).containsPattern("mqttsn_refused_total\\{[^}]*reason=\"topics_per_client\"[^}]*} [1-9]");
    }

    @Test
    void should_refuse_a_new_client_id_at_an_address_that_has_its_most_clients() throws Exception {
        String prefix = "addr-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        try (UdpClient first = UdpClient.atOwnAddress(gateway.udpPort())) {
            String ip = first.localAddress();
            try (UdpClient second = new UdpClient(ip, gateway.udpPort()); UdpClient third = new UdpClient(ip, gateway.udpPort())) {
                assertThat(first.exchange(message("04 04 01 00 3c", prefix + "a"))).isEqualTo(CONNACK_ACCEPTED);
                assertThat(second.exchange(message("04 04 01 00 3c", prefix + "b"))).isEqualTo(CONNACK_ACCEPTED);
                assertThat(third.exchange(message("04 04 01 00 3c", prefix + "c"))).as("a third client id").isEqualTo(CONNACK_CONGESTION);
                assertThat(first.exchange(message("04 04 01 00 3c", prefix + "a"))).as("one seen there reconnects").isEqualTo(CONNACK_ACCEPTED);
                assertThat(store.commands().smembers("clients-at:" + ip)).containsExactlyInAnyOrder(prefix + "a", prefix + "b");
                assertThat(store.commands().exists("session:" + prefix + "c")).as("nothing stored for the refused one").isZero();
            }
        }
        assertThat(gateway.metrics()).containsPattern("mqttsn_refused_total\\{[^}]*reason=\"clients_per_address\"[^}]*} [1-9]");
    }

    @Test
    void should_accept_qos_minus_one_to_a_short_name_only_from_listed_or_connected_sources() throws Exception {
        String shortName = "q" + (char) ('a' + (int) (Math.random() * 26));
        String topicHex = String.format("%02x %02x", (int) shortName.charAt(0), (int) shortName.charAt(1));
        try (AmqpQueue readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", shortName, "limits-" + UUID.randomUUID());
             AmqpQueue alarms = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "limits.alarm", "limits-" + UUID.randomUUID());
             UdpClient stranger = UdpClient.atOwnAddress(gateway.udpPort());
             UdpClient listed = new UdpClient("127.0.0.2", gateway.udpPort());
             UdpClient connected = UdpClient.atOwnAddress(gateway.udpPort())) {
            assertThat(stranger.exchange(message("0c 62 " + topicHex + " 00 00", "anyone"))).as("answered not supported")
                    .isEqualTo("07 0d " + topicHex + " 00 00 03");
            stranger.send(message("0c 61 00 09 00 00", "alarm"));
            assertThat(alarms.next(Duration.ofSeconds(5)).getBody()).as("a predefined id, from anyone").asString().isEqualTo("alarm");

            listed.send(message("0c 62 " + topicHex + " 00 00", "listed"));
            assertThat(readings.next(Duration.ofSeconds(5)).getBody()).asString().isEqualTo("listed");
            assertThat(connected.exchange(message("04 04 01 00 3c", "qos-1-" + UUID.randomUUID().toString().substring(0, 8))))
                    .isEqualTo(CONNACK_ACCEPTED);
            connected.send(message("0c 62 " + topicHex + " 00 00", "connected"));
            assertThat(readings.next(Duration.ofSeconds(5)).getBody()).asString().isEqualTo("connected");
            assertThat(readings.next(Duration.ofMillis(300))).as("nothing from the stranger").isNull();
        }
        assertThat(gateway.metrics()).containsPattern("mqttsn_refused_total\\{[^}]*reason=\"qos_minus_one_source\"[^}]*} [1-9]");
    }

    @Test
    void should_refuse_new_clients_while_the_store_holds_its_most_keys_and_keep_serving_the_known_ones() throws Exception {
        try (RunningGateway full = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.max-store-keys", "1"));
             UdpClient known = UdpClient.atOwnAddress(full.udpPort());
             UdpClient newcomer = UdpClient.atOwnAddress(full.udpPort())) {
            String knownId = "known-" + UUID.randomUUID().toString().substring(0, 8);
            // before the first count of the keys (within a second of the start) nothing is refused
            assertThat(known.exchange(message("04 04 01 00 3c", knownId))).isEqualTo(CONNACK_ACCEPTED);
            await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(
                    newcomer.exchange(message("04 04 01 00 3c", "new-" + UUID.randomUUID().toString().substring(0, 8))))
                    .isEqualTo(CONNACK_CONGESTION));
            assertThat(known.exchange(message("04 04 01 00 3c", knownId))).as("a client this instance holds").isEqualTo(CONNACK_ACCEPTED);
            assertThat(known.exchange(message("0a 00 00 00 01", "limits/full"))).startsWith("07 0b");
            assertThat(full.metrics()).containsPattern("mqttsn_refused_total\\{[^}]*reason=\"store_full\"[^}]*} [1-9]");
        }
    }
}
