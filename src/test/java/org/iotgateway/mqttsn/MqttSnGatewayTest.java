package org.iotgateway.mqttsn;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;

import com.rabbitmq.client.Delivery;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import org.awaitility.Awaitility;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StoreClient;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.ELVACO_JSON;
import static org.iotgateway.testing.Vectors.bytes;

/**
 * The vectors of shared/reference/mqtt-sn.md over real UDP, against the real RabbitMQ and Redis (those CI started, or
 * the embedded stand-ins): replies on the wire, the AMQP message a consumer receives, the keys in the store.
 */
class MqttSnGatewayTest {

    static final String CLIENT_ID = "94193A04010020B8";
    static final String TOPIC = "mr/94193A04010020B8/standard/json";
    static RunningGateway gateway;
    static StoreClient store;
    static RedisClusterCommands<String, String> redis;

    UdpClient device;
    AmqpQueue readings;

    @BeforeAll
    static void startGateway() throws Exception {
        gateway = RunningGateway.startOnly("mqttsn", Map.of(
                "mqttsn.use-port-number-in-client-store", "true",
                "mqttsn.predefined-topics", "5=alarms/fire,1=forwarded/readings",
                "mqttsn.qos-minus-one-sources", "127.0.0.1"));
        store = new StoreClient(gateway.valkeyUrl());
        redis = store.commands();
    }

    @AfterAll
    static void stopGateway() {
        store.close();
        gateway.close();
    }

    @BeforeEach
    void openDeviceAndQueue() throws Exception {
        device = new UdpClient(gateway.udpPort());
        readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "#", "test-" + UUID.randomUUID());
    }

    @AfterEach
    void close() throws Exception {
        device.close();
        readings.close();
    }

    String clientKey() {
        return "client:127.0.0.1:" + device.localPort();
    }

    void connectAndRegister() throws Exception {
        assertThat(device.exchange(bytes("16 04 04 01 fd 20", CLIENT_ID))).isEqualTo("03 05 00");
        assertThat(device.exchange(bytes("27 0a 00 00 ff cb", TOPIC))).isEqualTo("07 0b 00 01 ff cb 00");
    }

    @Test
    void should_store_the_client_under_its_address_with_a_seven_day_ttl_on_connect() throws Exception {
        assertThat(device.exchange(bytes("16 04 04 01 fd 20", CLIENT_ID))).isEqualTo("03 05 00");
        assertThat(redis.get(clientKey())).isEqualTo(CLIENT_ID);
        assertThat(redis.ttl(clientKey())).isBetween(604_000L, 604_800L);
    }

    @Test
    void should_register_topics_in_the_python_layout_and_return_the_existing_id_for_a_repeated_name() throws Exception {
        redis.del("topic:" + CLIENT_ID);
        connectAndRegister();
        assertThat(device.exchange(bytes("20 0a 00 00 0c d3", "mr/94193A040301D945/969795"))).isEqualTo("07 0b 00 02 0c d3 00");
        assertThat(device.exchange(bytes("27 0a 00 00 ff cc", TOPIC))).isEqualTo("07 0b 00 01 ff cc 00");
        assertThat(redis.lrange("topic:" + CLIENT_ID, 0, -1)).containsExactly(TOPIC, "mr/94193A040301D945/969795");
    }

    @Test
    void should_ack_qos1_publish_after_broker_confirm_with_the_python_gateways_amqp_message() throws Exception {
        connectAndRegister();
        assertThat(device.exchange(bytes("a2 0c a0 00 01 c7 92", ELVACO_JSON))).isEqualTo("07 0d 00 01 c7 92 00");

        Delivery message = readings.next(Duration.ofSeconds(5));
        assertThat(message).isNotNull();
        assertThat(message.getEnvelope().getRoutingKey()).isEqualTo("mr.94193A04010020B8.standard.json");
        assertThat(new String(message.getBody(), StandardCharsets.UTF_8)).isEqualTo(ELVACO_JSON);
        assertThat(message.getProperties().getContentType()).isEqualTo("application/data");
        assertThat(message.getProperties().getContentEncoding()).isEqualTo("binary");
        assertThat(message.getProperties().getDeliveryMode()).isEqualTo(2);
        assertThat(message.getProperties().getPriority()).isZero();
        Map<String, Object> headers = message.getProperties().getHeaders();
        assertThat(headers.get("client_id")).hasToString(CLIENT_ID);
        assertThat(headers.get("source")).hasToString("127.0.0.1:" + device.localPort());
        assertThat(headers.get("qos")).hasToString("1");
        assertThat(headers.get("retain")).isEqualTo(false);
        assertThat((Long) headers.get("received_at")).isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(10_000L));
    }

    @Test
    void should_carry_the_retain_flag_as_an_amqp_header() throws Exception {
        connectAndRegister();
        assertThat(device.exchange(bytes("0b 0c 31 00 05 00 11", "kept"))).isEqualTo("07 0d 00 05 00 11 00");
        assertThat(readings.next(Duration.ofSeconds(5)).getProperties().getHeaders().get("retain")).isEqualTo(true);
    }

    @Test
    void should_refuse_at_register_topic_names_with_wildcards_or_too_long_for_an_amqp_routing_key() throws Exception {
        connectAndRegister();
        assertThat(device.exchange(bytes("0e 0a 00 00 00 21", "mr/+/bad"))).isEqualTo("07 0b 00 00 00 21 03");
        assertThat(device.exchange(bytes("0a 0a 00 00 00 22", "mr/#"))).isEqualTo("07 0b 00 00 00 22 03");
        String longest = "mr/" + "x".repeat(252);
        assertThat(device.exchange(register(0x23, longest + "y"))).as("256 bytes").isEqualTo("07 0b 00 00 00 23 03");
        assertThat(device.exchange(register(0x24, longest))).as("255 bytes").isEqualTo("07 0b 00 02 00 24 00");

        assertThat(device.exchange(bytes("08 0c 20 00 02 00 25", "z"))).isEqualTo("07 0d 00 02 00 25 00");
        assertThat(readings.next(Duration.ofSeconds(5)).getEnvelope().getRoutingKey()).isEqualTo("mr." + "x".repeat(252));
        // a short topic name is a topic name too
        assertThat(device.exchange(bytes("09 0c 22 2b 61 00 26", "hi"))).isEqualTo("07 0d 2b 61 00 26 02");
        assertThat(readings.next(Duration.ofMillis(300))).as("nothing published on a wildcard").isNull();
        assertThat(gateway.metrics()).containsPattern("mqttsn_refused_total\\{[^}]*reason=\"topic_name\"[^}]*} [1-9]");
    }

    private static byte[] register(int msgId, String topicName) {
        byte[] name = topicName.getBytes(StandardCharsets.UTF_8);
        int length = 3 + 5 + name.length;
        byte[] head = bytes(String.format("01 %02x %02x 0a 00 00 00 %02x", length >> 8, length & 0xff, msgId), "");
        byte[] datagram = new byte[length];
        System.arraycopy(head, 0, datagram, 0, head.length);
        System.arraycopy(name, 0, datagram, head.length, name.length);
        return datagram;
    }

    @Test
    void should_ack_and_deliver_every_reading_when_many_devices_publish_at_once() throws Exception {
        // readings arriving together leave in shared batches of publishes: none may be stranded or doubled
        int devices = 40;
        int readingsEach = 25;
        List<UdpClient> meters = new ArrayList<>();
        try {
            for (int d = 0; d < devices; d++) {
                UdpClient meter = new UdpClient(gateway.udpPort());
                meters.add(meter);
                String clientId = String.format("BURST%011d", d);
                assertThat(meter.exchange(bytes("16 04 04 01 fd 20", clientId))).isEqualTo("03 05 00");
                String topic = "burst/" + clientId;
                assertThat(meter.exchange(bytes(String.format("%02x 0a 00 00 00 01", 6 + topic.length()), topic)))
                        .isEqualTo("07 0b 00 01 00 01 00");
            }
            for (int r = 1; r <= readingsEach; r++) {
                for (UdpClient meter : meters) {
                    String payload = "r" + r;
                    meter.send(bytes(String.format("%02x 0c 20 00 01 00 %02x", 7 + payload.length(), r), payload));
                }
            }
            for (UdpClient meter : meters) {
                Set<String> acks = new HashSet<>();
                for (int r = 1; r <= readingsEach; r++) {
                    acks.add(meter.receive(10_000));
                }
                assertThat(acks).as("a PUBACK rc 0 for each reading of " + meter.localPort())
                        .containsExactlyInAnyOrderElementsOf(IntStream.rangeClosed(1, readingsEach)
                                .mapToObj(r -> String.format("07 0d 00 01 00 %02x 00", r)).toList());
            }
            Map<String, Integer> delivered = new HashMap<>();
            for (int n = 0; n < devices * readingsEach; n++) {
                Delivery message = readings.next(Duration.ofSeconds(10));
                assertThat(message).as("reading " + (n + 1) + " of " + devices * readingsEach).isNotNull();
                delivered.merge(message.getEnvelope().getRoutingKey() + " " + new String(message.getBody(), StandardCharsets.UTF_8),
                        1, Integer::sum);
            }
            assertThat(delivered).hasSize(devices * readingsEach).allSatisfy((reading, times) -> assertThat(times).isOne());
            assertThat(readings.next(Duration.ofMillis(300))).as("nothing more").isNull();
        } finally {
            meters.forEach(UdpClient::close);
        }
    }

    @Test
    void should_forward_qos0_without_puback() throws Exception {
        connectAndRegister();
        device.send(bytes("0c 0c 00 00 01 00 00", "hello"));
        Delivery message = readings.next(Duration.ofSeconds(5));
        assertThat(message.getBody()).asString().isEqualTo("hello");
        assertThat(device.receive(300)).as("no PUBACK for QoS 0").isNull();
    }

    @Test
    void should_forward_payloads_beyond_255_bytes_up_to_the_largest_udp_datagram_with_the_3_octet_length() throws Exception {
        connectAndRegister();
        // 65,507 bytes is all an IPv4 UDP datagram holds; sent back to back, the two arrive in one batch of reads
        int[] lengths = {1000, 65_507 - 9};
        for (int i = 0; i < lengths.length; i++) {
            device.send(publishWithLongLength(i + 9, "x".repeat(lengths[i]).getBytes(StandardCharsets.US_ASCII)));
        }
        for (int i = 0; i < lengths.length; i++) {
            assertThat(device.receive(5000)).isEqualTo(String.format("07 0d 00 01 00 %02x 00", i + 9));
            assertThat(readings.next(Duration.ofSeconds(5)).getBody()).hasSize(lengths[i]).containsOnly('x');
        }
    }

    @Test
    void should_route_a_devices_readings_in_the_order_sent_while_the_store_answers_the_first() throws Exception {
        connectAndRegister();
        // REGISTER emptied the near cache's topic list: the first reading waits for Redis, the next find it filled
        for (int round = 0; round < 5; round++) {
            assertThat(device.exchange(bytes("27 0a 00 00 ff cb", TOPIC))).isEqualTo("07 0b 00 01 ff cb 00");
            for (int i = 0; i < 100; i++) {
                device.send(bytes("0c 0c 00 00 01 00 00", "%05d".formatted(i)));
            }
            for (int i = 0; i < 100; i++) {
                Delivery reading = readings.next(Duration.ofSeconds(5));
                assertThat(reading).as("reading %d of round %d", i, round).isNotNull();
                assertThat(new String(reading.getBody(), StandardCharsets.UTF_8)).as("round %d", round).isEqualTo("%05d".formatted(i));
            }
        }
    }

    private static byte[] publishWithLongLength(int msgId, byte[] payload) {
        int length = 9 + payload.length;
        byte[] datagram = new byte[length];
        System.arraycopy(bytes(String.format("01 %02x %02x 0c 20 00 01 00 %02x", length >> 8, length & 0xff, msgId), ""), 0, datagram, 0, 9);
        System.arraycopy(payload, 0, datagram, 9, payload.length);
        return datagram;
    }

    @Test
    void should_accept_qos_minus_one_with_predefined_and_short_topics_without_a_session_from_a_listed_source() throws Exception {
        device.send(bytes("09 0c 61 00 05 00 00", "m1"));
        device.send(bytes("09 0c 62 78 79 00 00", "m2"));
        Delivery first = readings.next(Duration.ofSeconds(5));
        Delivery second = readings.next(Duration.ofSeconds(5));
        assertThat(Map.of(first.getEnvelope().getRoutingKey(), new String(first.getBody()),
                second.getEnvelope().getRoutingKey(), new String(second.getBody())))
                .containsEntry("alarms.fire", "m1").containsEntry("xy", "m2");
        assertThat(device.receive(300)).as("QoS -1 is never acknowledged").isNull();
    }

    @Test
    void should_answer_predefined_and_short_topics_for_a_connected_client_and_reject_unknown_ids() throws Exception {
        connectAndRegister();
        assertThat(device.exchange(bytes("09 0c 21 00 05 00 01", "hi"))).isEqualTo("07 0d 00 05 00 01 00");
        assertThat(readings.next(Duration.ofSeconds(5)).getEnvelope().getRoutingKey()).isEqualTo("alarms.fire");
        assertThat(device.exchange(bytes("09 0c 22 61 62 00 02", "hi"))).isEqualTo("07 0d 61 62 00 02 00");
        assertThat(readings.next(Duration.ofSeconds(5)).getEnvelope().getRoutingKey()).isEqualTo("ab");
        assertThat(device.exchange(bytes("09 0c 21 00 09 00 03", "hi"))).isEqualTo("07 0d 00 09 00 03 02");
    }

    @Test
    void should_reject_topic_id_zero_and_unregistered_ids_at_any_qos() throws Exception {
        connectAndRegister();
        assertThat(device.exchange(bytes("08 0c 20 00 00 00 01", "a"))).isEqualTo("07 0d 00 00 00 01 02");
        assertThat(device.exchange(bytes("08 0c 20 00 63 00 02", "a"))).isEqualTo("07 0d 00 63 00 02 02");
        assertThat(device.exchange(bytes("08 0c 40 00 63 00 03", "a"))).isEqualTo("07 0d 00 63 00 03 02");
        assertThat(readings.next(Duration.ofMillis(300))).isNull();
    }

    @Test
    void should_answer_disconnect_to_register_and_publish_from_an_unknown_address() throws Exception {
        assertThat(device.exchange(bytes("27 0a 00 00 ff cb", TOPIC))).isEqualTo("02 18");
        assertThat(device.exchange(bytes("a2 0c a0 00 01 c7 92", ELVACO_JSON))).isEqualTo("02 18");
    }

    @Test
    void should_answer_ping_with_and_without_client_id_and_disconnect_with_disconnect() throws Exception {
        assertThat(device.exchange(bytes("02 16", ""))).isEqualTo("02 17");
        assertThat(device.exchange(bytes("12 16", CLIENT_ID))).isEqualTo("02 17");
        assertThat(device.exchange(bytes("02 18", ""))).isEqualTo("02 18");
        assertThat(device.exchange(bytes("04 18 00 0a", ""))).isEqualTo("02 18");
    }

    @Test
    void should_unwrap_forwarded_messages_and_wrap_the_replies_back() throws Exception {
        assertThat(device.exchange(bytes("07 fe 00 30 31 30 32 08 04 04 01 00 3c 6e 31", "")))
                .isEqualTo("07 fe 00 30 31 30 32 03 05 00");
        assertThat(redis.get(clientKey() + "/30313032")).isEqualTo("n1");
        device.send(bytes("07 fe 00 30 31 30 32 08 0c 61 00 01 00 00 78", ""));
        Delivery message = readings.next(Duration.ofSeconds(5));
        assertThat(message.getEnvelope().getRoutingKey()).isEqualTo("forwarded.readings");
        assertThat(message.getBody()).containsExactly('x');
    }

    @Test
    void should_drop_bad_datagrams_with_a_counted_reason_and_keep_serving() throws Exception {
        for (String garbage : new String[] {"", "05", "00 0c", "09 0c 20 00 01", "02 03", "03 05 00", "ff ff ff ff"}) {
            device.send(bytes(garbage, ""));
        }
        assertThat(device.exchange(bytes("02 16", ""))).as("the socket still answers").isEqualTo("02 17");
        String metrics = gateway.metrics();
        assertThat(metrics).containsPattern("mqttsn_datagrams_dropped_total\\{[^}]*reason=\"truncated\"[^}]*} [1-9]")
                .containsPattern("mqttsn_datagrams_dropped_total\\{[^}]*reason=\"unknown_type\"[^}]*} [1-9]")
                .containsPattern("mqttsn_datagrams_dropped_total\\{[^}]*reason=\"unexpected_type\"[^}]*} [1-9]");
    }

    @Test
    void should_answer_congestion_at_once_and_keep_serving_while_the_readings_route_is_stopped() throws Exception {
        connectAndRegister();
        var routes = gateway.context().getRouteController();
        routes.stopRoute("mqttsn-readings-to-rabbitmq");
        try {
            long start = System.nanoTime();
            assertThat(device.exchange(bytes("08 0c 20 00 01 00 07", "c"))).isEqualTo("07 0d 00 01 00 07 01");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).as("answered without waiting for the route")
                    .isLessThan(Duration.ofSeconds(1));
            assertThat(device.exchange(bytes("02 16", ""))).as("the socket still answers").isEqualTo("02 17");
        } finally {
            routes.startRoute("mqttsn-readings-to-rabbitmq");
        }
        // the restarted route's publisher connects again in the background: the meter retries until it is back
        Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(device.exchange(bytes("08 0c a0 00 01 00 08", "d"))).isEqualTo("07 0d 00 01 00 08 00"));
        assertThat(readings.next(Duration.ofSeconds(5)).getBody()).containsExactly('d');
    }

    @Test
    void should_see_a_clean_session_made_through_another_gateway_instance() throws Exception {
        connectAndRegister();
        assertThat(device.exchange(bytes("08 0c 20 00 01 00 05", "a"))).isEqualTo("07 0d 00 01 00 05 00");
        readings.next(Duration.ofSeconds(5));
        // another instance (or the Python gateway) takes a clean CONNECT and a different first REGISTER
        redis.set(clientKey(), CLIENT_ID);
        redis.del("topic:" + CLIENT_ID);
        redis.rpush("topic:" + CLIENT_ID, "other/topic");
        Awaitility.await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(device.exchange(bytes("08 0c 20 00 01 00 06", "b"))).isEqualTo("07 0d 00 01 00 06 00");
            assertThat(readings.next(Duration.ofSeconds(5)).getEnvelope().getRoutingKey()).isEqualTo("other.topic");
        });
    }
}
