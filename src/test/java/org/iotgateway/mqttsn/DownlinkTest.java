package org.iotgateway.mqttsn;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import org.awaitility.Awaitility;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import org.iotgateway.rabbitmq.AmqpUrl;
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
 * Subscriptions and messages for devices, with two instances sharing one store and one RabbitMQ: a device subscribes
 * through one, messages published to the readings' exchange reach it through either, its PUBACK goes to either, what
 * it does not acknowledge is sent again, what arrives while it sleeps waits for it to wake. Real UDP, Redis, RabbitMQ.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DownlinkTest {

    static final HexFormat HEX = HexFormat.ofDelimiter(" ");
    static RunningGateway a;
    static RunningGateway b;
    static StoreClient store;
    static RedisClusterCommands<String, String> redis;
    static StoreKeys keys;
    static Connection amqp;
    static Channel publisher;

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
        Map<String, String> settings = new HashMap<>(storeSettings());
        settings.putAll(Map.of("mqttsn.downlink-retry-seconds", "1", "mqttsn.downlink-max-attempts", "3",
                "mqttsn.predefined-topics", "7=alarms/all"));
        a = RunningGateway.startOnly("mqttsn", settings);
        b = RunningGateway.startOnly("mqttsn", settings);
        store = new StoreClient(a.valkeyUrl());
        redis = store.commands();
        keys = store.keys();
        amqp = AmqpUrl.parse(a.amqpUrl()).connectionFactory().newConnection("downlink test publisher");
        publisher = amqp.createChannel();
    }

    @AfterAll
    void stopInstances() throws Exception {
        amqp.close();
        store.close();
        b.close();
        a.close();
        stopStore();
    }

    @BeforeEach
    void connect() throws Exception {
        clientId = "sub-" + UUID.randomUUID().toString().substring(0, 8);
        device = UdpClient.atOwnAddress(a.udpPort());
        assertThat(device.exchange(message("04 04 01 0e 10", clientId))).isEqualTo("03 05 00");
    }

    @AfterEach
    void close() {
        device.close();
    }

    /** Publishes to the readings' exchange as any AMQP client (or the uplink) would. */
    static void publish(String routingKey, String body) throws Exception {
        publisher.basicPublish("mqtt-sn", routingKey, MessageProperties.PERSISTENT_BASIC, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Publishes with the AMQP header qos, as the readings route sets it from the publishing device's QoS. */
    static void publish(String routingKey, String body, int qos) throws Exception {
        publisher.basicPublish("mqtt-sn", routingKey, MessageProperties.PERSISTENT_BASIC.builder()
                .headers(Map.of("qos", qos)).build(), body.getBytes(StandardCharsets.UTF_8));
    }

    static String step(int type, Received received) {
        return "04 %02x %02x %02x".formatted(type, received.msgId() >> 8, received.msgId() & 0xff);
    }

    /** A PUBLISH the device received: flags, topic id, message id and payload. */
    record Received(int flags, int topicId, int msgId, String payload) {
        static Received of(String hex) {
            assertThat(hex).as("a PUBLISH").isNotNull();
            byte[] bytes = HEX.parseHex(hex);
            assertThat(bytes[1]).as("PUBLISH type in " + hex).isEqualTo((byte) 0x0c);
            return new Received(bytes[2] & 0xff, (bytes[3] & 0xff) << 8 | bytes[4] & 0xff, (bytes[5] & 0xff) << 8 | bytes[6] & 0xff,
                    new String(bytes, 7, bytes.length - 7, StandardCharsets.UTF_8));
        }
    }

    /** The next datagram for the device, from whichever instance sent it (the one that took the message from the queue). */
    String next(int timeoutMillis) throws Exception {
        return device.receiveFromAny(timeoutMillis);
    }

    String puback(Received received) {
        return "07 0d %02x %02x %02x %02x 00".formatted(received.topicId() >> 8, received.topicId() & 0xff,
                received.msgId() >> 8, received.msgId() & 0xff);
    }

    @Test
    void should_deliver_to_a_subscribed_topic_name_with_the_topic_id_given_in_suback_and_stop_at_its_puback() throws Exception {
        String topic = "cmd/" + clientId + "/set";
        assertThat(device.via(a.udpPort()).exchange(message("12 20 00 05", topic))).as("SUBACK QoS 1, topic id 1")
                .isEqualTo("08 13 20 00 01 00 05 00");
        assertThat(redis.hget(keys.subscribers(topic, clientId), clientId)).isEqualTo("1");

        publish("cmd." + clientId + ".set", "open");
        Received received = Received.of(next(5000));
        assertThat(received).isEqualTo(new Received(0x20, 1, received.msgId(), "open"));
        assertThat(redis.hexists(keys.client("inflight:", clientId), Integer.toString(received.msgId()))).isTrue();

        device.via(b.udpPort()).send(HEX.parseHex(puback(received)));
        Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> !redis.hexists(keys.client("inflight:", clientId),
                Integer.toString(received.msgId())));
        assertThat(next(2500)).as("acknowledged: not sent again").isNull();
    }

    @Test
    void should_register_a_topic_matched_by_a_wildcard_before_its_first_message() throws Exception {
        assertThat(device.exchange(message("12 20 00 06", "cmd/" + clientId + "/#"))).as("no topic id for a filter")
                .isEqualTo("08 13 20 00 00 00 06 00");
        publish("cmd." + clientId + ".valve.2", "close");

        String register = next(5000);
        String topic = "cmd/" + clientId + "/valve/2";
        assertThat(register).startsWith("%02x 0a 00 01".formatted(6 + topic.length()));
        assertThat(new String(HEX.parseHex(register), 6, topic.length(), StandardCharsets.UTF_8)).isEqualTo(topic);
        Received received = Received.of(next(5000));
        assertThat(received.topicId()).isEqualTo(1);
        assertThat(received.payload()).isEqualTo("close");
        device.send(HEX.parseHex(puback(received)));
        assertThat(redis.lrange(keys.client("topic:", clientId), 0, -1)).containsExactly(topic);
    }

    @Test
    void should_deliver_what_another_device_publishes_on_a_subscribed_topic() throws Exception {
        assertThat(device.exchange(message("12 00 00 07", "chat/+/" + clientId))).isEqualTo("08 13 00 00 00 00 07 00");
        try (UdpClient other = UdpClient.atOwnAddress(b.udpPort())) {
            String otherId = clientId + "-o";
            assertThat(other.exchange(message("04 04 01 00 3c", otherId))).isEqualTo("03 05 00");
            String topic = "chat/" + otherId + "/" + clientId;
            assertThat(other.exchange(message("0a 00 00 00 01", topic))).isEqualTo("07 0b 00 01 00 01 00");
            assertThat(other.exchange(message("0c 20 00 01 00 02", "hello"))).isEqualTo("07 0d 00 01 00 02 00");
        }
        next(5000); // REGISTER
        Received received = Received.of(next(5000));
        assertThat(received.flags()).as("QoS 0 as granted").isEqualTo(0x00);
        assertThat(received.msgId()).isZero();
        assertThat(received.payload()).isEqualTo("hello");
    }

    @Test
    void should_send_again_what_is_not_acknowledged_and_give_up_after_the_last_attempt() throws Exception {
        String topic = "cmd/" + clientId + "/retry";
        assertThat(device.exchange(message("12 20 00 08", topic))).isEqualTo("08 13 20 00 01 00 08 00");
        publish("cmd." + clientId + ".retry", "again");
        Received first = Received.of(next(5000));
        assertThat(first.flags() & 0x80).as("first attempt, no DUP").isZero();

        String register = next(5000);
        assertThat(register).as("a retry registers the topic again").contains(" 0a 00 01");
        Received second = Received.of(next(5000));
        assertThat(second).isEqualTo(new Received(0xa0, 1, first.msgId(), "again"));
        next(5000);
        Received third = Received.of(next(5000));
        assertThat(third.flags()).isEqualTo(0xa0);
        assertThat(next(3000)).as("3 attempts, then dropped").isNull();
        assertThat(redis.hexists(keys.client("inflight:", clientId), Integer.toString(first.msgId()))).isFalse();
        assertThat(a.metrics() + b.metrics()).containsPattern("mqttsn_downlink_total\\{[^}]*result=\"dropped\"[^}]*} [1-9]");
    }

    @Test
    void should_deliver_qos2_once_with_pubrec_pubrel_pubcomp_through_either_instance_and_retry_each_step() throws Exception {
        String topic = "cmd/" + clientId + "/q2";
        assertThat(device.exchange(message("12 40 00 13", topic))).as("QoS 2 granted").isEqualTo("08 13 40 00 01 00 13 00");
        publish("cmd." + clientId + ".q2", "exactly once", 2);
        Received first = Received.of(next(5000));
        assertThat(first).isEqualTo(new Received(0x40, 1, first.msgId(), "exactly once"));

        // no PUBREC: sent again (REGISTER, then the PUBLISH with DUP)
        next(5000);
        Received again = Received.of(next(5000));
        assertThat(again).isEqualTo(new Received(0xc0, 1, first.msgId(), "exactly once"));

        // PUBREC through the other instance: PUBREL; then no PUBCOMP: PUBREL again, not the PUBLISH
        assertThat(device.via(b.udpPort()).exchange(HEX.parseHex(step(0x0f, first)))).isEqualTo(step(0x10, first));
        assertThat(next(5000)).as("a retry after PUBREC is a PUBREL").isEqualTo(step(0x10, first));
        device.via(a.udpPort()).send(HEX.parseHex(step(0x0e, first)));
        Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> !redis.hexists(keys.client("inflight:", clientId),
                Integer.toString(first.msgId())));
        assertThat(next(2500)).as("completed: nothing more").isNull();

        // a QoS 2 message to a QoS 1 subscription goes at QoS 1
        String other = "cmd/" + clientId + "/q1";
        assertThat(device.exchange(message("12 20 00 14", other))).isEqualTo("08 13 20 00 02 00 14 00");
        publish("cmd." + clientId + ".q1", "at most QoS 1", 2);
        Received lower = Received.of(next(5000));
        assertThat(lower.flags()).isEqualTo(0x20);
        device.send(HEX.parseHex(puback(lower)));
    }

    @Test
    void should_keep_messages_for_a_sleeping_device_and_deliver_them_when_it_wakes_then_pingresp() throws Exception {
        String topic = "cmd/" + clientId + "/sleep";
        assertThat(device.exchange(message("12 20 00 09", topic))).isEqualTo("08 13 20 00 01 00 09 00");
        assertThat(device.exchange(message("18 00 3c", ""))).as("asleep for 60 s").isEqualTo("02 18");
        Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> "asleep".equals(redis.hget(keys.client("session:", clientId), "state")));

        // one after the other: the queue's consumers work side by side, so messages a millisecond apart may swap
        publish("cmd." + clientId + ".sleep", "first");
        Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> redis.llen(keys.client("sleepq:", clientId)) == 1);
        publish("cmd." + clientId + ".sleep", "second");
        Awaitility.await().atMost(Duration.ofSeconds(3)).until(() -> redis.llen(keys.client("sleepq:", clientId)) == 2);
        assertThat(next(500)).as("nothing while asleep").isNull();

        device.via(b.udpPort()).send(message("16", clientId));
        Received first = Received.of(next(5000));
        Received second = Received.of(next(5000));
        assertThat(first.payload() + "," + second.payload()).isEqualTo("first,second");
        assertThat(next(5000)).as("PINGRESP after the kept messages").isEqualTo("02 17");
        device.send(HEX.parseHex(puback(first)));
        device.send(HEX.parseHex(puback(second)));
        assertThat(redis.exists(keys.client("sleepq:", clientId))).isZero();
    }

    @Test
    void should_stop_delivering_after_unsubscribe_and_after_a_clean_session() throws Exception {
        String topic = "cmd/" + clientId + "/off";
        assertThat(device.exchange(message("12 00 00 0a", topic))).isEqualTo("08 13 00 00 01 00 0a 00");
        assertThat(device.via(b.udpPort()).exchange(message("14 00 00 0b", topic))).isEqualTo("04 15 00 0b");
        publish("cmd." + clientId + ".off", "x");
        assertThat(next(1500)).isNull();

        assertThat(device.exchange(message("12 00 00 0c", topic))).isEqualTo("08 13 00 00 01 00 0c 00");
        assertThat(device.exchange(message("04 04 01 0e 10", clientId))).as("clean session").isEqualTo("03 05 00");
        publish("cmd." + clientId + ".off", "y");
        assertThat(next(1500)).isNull();
        assertThat(redis.exists(keys.client("subs:", clientId), keys.subscribers(topic, clientId))).isZero();
    }

    @Test
    void should_subscribe_short_and_predefined_topics_and_refuse_bad_filters() throws Exception {
        assertThat(device.exchange(message("12 02 00 0d 7a 39", ""))).as("short name z9").isEqualTo("08 13 00 00 00 00 0d 00");
        publish("z9", "short");
        Received shortOne = Received.of(next(5000));
        assertThat(shortOne).isEqualTo(new Received(0x02, 0x7a39, 0, "short"));

        assertThat(device.exchange(message("12 01 00 0e 00 07", ""))).as("predefined 7").isEqualTo("08 13 00 00 07 00 0e 00");
        assertThat(device.exchange(message("12 01 00 0f 00 08", ""))).as("undefined 8").isEqualTo("08 13 00 00 00 00 0f 02");
        assertThat(device.exchange(message("12 00 00 10", "a/#/b"))).isEqualTo("08 13 00 00 00 00 10 03");
        assertThat(device.exchange(message("12 00 00 11", "$share/g/a"))).isEqualTo("08 13 00 00 00 00 11 03");
        assertThat(device.exchange(message("12 60 00 12", "cmd/" + clientId + "/q"))).as("QoS -1 granted as 0")
                .isEqualTo("08 13 00 00 01 00 12 00");
    }
}
