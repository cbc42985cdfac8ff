package org.iotgateway.mqttsn;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.iotgateway.mqttsn.store.SessionStore;
import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StallingProxy;
import org.iotgateway.testing.StoreClient;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.iotgateway.testing.Vectors.message;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The session store goes away and comes back, through a relay in front of the tests' Redis: readiness says so, the
 * devices the gateway holds keep being served, the gateway is back within a second of the store, and a store that
 * comes back empty is filled again from what the gateway held instead of every device being disconnected.
 */
class StoreOutageTest {

    StallingProxy relay;
    RunningGateway gateway;
    StoreClient store;
    UdpClient device;
    AmqpQueue readings;
    String clientId;
    String topic;

    @BeforeEach
    void start() throws Exception {
        relay = StallingProxy.toValkey();
        gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string", relay.url()));
        store = new StoreClient(relay.brokerUrl());
        await().atMost(30, TimeUnit.SECONDS).until(this::ready);
        clientId = "outage-" + UUID.randomUUID().toString().substring(0, 8);
        topic = "outage/" + clientId;
        readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "outage." + clientId, "outage-" + UUID.randomUUID());
        // the Python gateway's keys: client:{ip}, shared by the ports of one address
        device = UdpClient.atOwnAddress(gateway.udpPort());
        assertThat(device.exchange(message("04 04 01 00 3c", clientId))).isEqualTo("03 05 00");
        assertThat(device.exchange(message("0a 00 00 00 01", topic))).isEqualTo("07 0b 00 01 00 01 00");
        // a device that has been publishing: its topics are in the gateway's near cache (what is written back comes
        // from there; the store may announce a change of the list a moment after REGISTER, and the entry is read again)
        int msgId = 1;
        SessionStore near = ((MqttSnConsumer) gateway.context().getRoute("mqttsn-udp-listener").getConsumer()).store();
        do {
            assertPublished(msgId++, "before");
        } while (near.cachedTopicName(clientId, 1) == null && msgId < 50);
        firstId = msgId;
    }

    /** The message id of the first reading a test sends. */
    int firstId;

    @AfterEach
    void stop() throws Exception {
        device.close();
        readings.close();
        store.close();
        gateway.close();
        relay.close();
    }

    boolean ready() throws Exception {
        return gateway.readiness().startsWith("{\"status\":\"UP\"");
    }

    void assertPublished(int msgId, String payload) throws Exception {
        String id = String.format("%02x", msgId);
        assertThat(device.exchange(message("0c 20 00 01 00 " + id, payload))).isEqualTo("07 0d 00 01 00 " + id + " 00");
        assertThat(readings.next(Duration.ofSeconds(5)).getBody()).asString().isEqualTo(payload);
    }

    /**
     * Publishes until the store has the client again, every reading acknowledged. The gateway learns that the store was
     * emptied a moment after it happened (the reconnect, or the server's flush notice): a reading in that moment is
     * served from the near cache, and the next one writes the client back.
     */
    void publishUntilWrittenBack(String payload) throws Exception {
        int msgId = firstId;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        do {
            assertPublished(msgId++, payload);
        } while (store.commands().get("client:" + device.localAddress()) == null && System.nanoTime() < until);
    }

    @Test
    void should_turn_readiness_down_saying_why_and_keep_serving_the_devices_it_holds() throws Exception {
        relay.down();
        await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(gateway.readiness())
                .startsWith("{\"status\":\"DOWN\"").contains("\"mqttsn-store\"", "the store at 127.0.0.1:", "is not connected"));
        assertPublished(firstId, "during the outage");
    }

    @Test
    void should_be_ready_again_within_a_second_of_the_store_coming_back() throws Exception {
        relay.down();
        await().atMost(10, TimeUnit.SECONDS).until(() -> !ready());
        // long enough for a back-off that doubles to pass several seconds (Lettuce's default goes to 30 s)
        Thread.sleep(5_000);
        relay.up();
        long back = System.nanoTime();
        await().atMost(10, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(20)).until(this::ready);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - back);
        System.out.printf("Store outage: ready %d ms after the store came back%n", millis);
        assertThat(millis).as("ms from the store's return to readiness").isLessThan(1_000);
        assertPublished(firstId, "after the outage");
    }

    @Test
    void should_write_back_the_clients_and_topics_it_holds_when_the_store_comes_back_empty() throws Exception {
        relay.down();
        store.commands().flushdb();
        relay.up();
        await().atMost(10, TimeUnit.SECONDS).until(this::ready);

        publishUntilWrittenBack("after an empty restart");
        assertThat(store.commands().get("client:" + device.localAddress())).isEqualTo(clientId);
        assertThat(store.commands().smembers("clients-at:" + device.localAddress())).containsExactly(clientId);
        assertThat(store.commands().lrange("topic:" + clientId, 0, -1)).containsExactly(topic);
        assertThat(device.exchange(message("0a 00 00 00 03", topic + "/2"))).as("new names follow the old ids")
                .isEqualTo("07 0b 00 02 00 03 00");
    }

    @Test
    void should_carry_on_through_a_real_restart_of_the_store_without_persistence() throws Exception {
        URI valkey = URI.create(relay.brokerUrl());
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-server")), "no redis-server to restart");
        // the tests' Redis, as .ci/services runs it: no snapshot, no append-only file, so it comes back empty
        String port = Integer.toString(valkey.getPort());
        run("redis-cli", "-p", port, "shutdown", "nosave");
        await().atMost(10, TimeUnit.SECONDS).until(() -> !ready());
        run("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "yes");
        long started = System.nanoTime();
        await().atMost(10, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(20)).until(this::ready);
        System.out.printf("Store restart: ready %d ms after redis-server was started again%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        publishUntilWrittenBack("after a real restart");
        assertThat(store.commands().lrange("topic:" + clientId, 0, -1)).containsExactly(topic);
    }

    private static void run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(process.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
    }

    @Test
    void should_write_back_the_clients_and_topics_it_holds_when_the_store_is_flushed_under_it() throws Exception {
        store.commands().flushdb();
        await().atMost(5, TimeUnit.SECONDS).until(() -> store.commands().dbsize() == 0);
        publishUntilWrittenBack("after a flush");
        assertThat(store.commands().lrange("topic:" + clientId, 0, -1)).containsExactly(topic);
    }
}
