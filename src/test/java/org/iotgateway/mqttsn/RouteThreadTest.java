package org.iotgateway.mqttsn;

import java.util.List;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.apache.camel.builder.AdviceWith;
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
 * Which thread runs the readings route's steps, as its file states: the route's pool by default; the UDP socket's with
 * mqttsn.route-threads=0, also when the device's session had to be read from Redis; never the Redis client's I/O
 * thread (where a slow step would stall every device's store reads).
 */
class RouteThreadTest {

    static RunningGateway gateway;
    static final List<String> threads = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.route-threads", "0"));
        AdviceWith.adviceWith(gateway.context(), "mqttsn-readings-to-rabbitmq",
                route -> route.weaveAddFirst().process(exchange -> threads.add(Thread.currentThread().getName())));
        // the advised route replaces the running one; the supervising route controller leaves it to us to start
        gateway.context().getRouteController().startRoute("mqttsn-readings-to-rabbitmq");
        // the advised route has a publisher of its own: ready once it is connected to RabbitMQ
        await().atMost(Duration.ofSeconds(20)).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void should_run_the_readings_route_on_the_socket_thread_after_a_session_read_from_redis() throws Exception {
        try (StoreClient store = new StoreClient(gateway.valkeyUrl()); UdpClient device = new UdpClient(gateway.udpPort())) {
            // a session the Python gateway made: neither the client nor its topics are in this instance's near cache
            store.commands().set("client:127.0.0.1:" + device.localPort(), "thread-meter");
            store.commands().del("topic:thread-meter");
            store.commands().rpush("topic:thread-meter", "threads/one");
            assertThat(device.exchange(message("0c 20 00 01 00 05", "reading"))).isEqualTo("07 0d 00 01 00 05 00");
            assertThat(device.exchange(message("0c 20 00 01 00 06", "again"))).isEqualTo("07 0d 00 01 00 06 00");
        }
        assertThat(threads).hasSize(2).allSatisfy(name -> assertThat(name).startsWith("mqttsn-udp-"));
    }
}
