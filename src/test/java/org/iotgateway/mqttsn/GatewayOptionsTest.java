package org.iotgateway.mqttsn;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import org.iotgateway.testing.AmqpQueue;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StoreClient;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.bytes;
import static org.iotgateway.testing.Vectors.message;

/**
 * The Python gateway's defaults and compatibility switches: ip-only client keys, PUBACK for QoS 0; the flood guard; the
 * readings route on threads of its own instead of the socket's.
 */
class GatewayOptionsTest {

    static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.startOnly("mqttsn", Map.of(
                "mqttsn.use-port-number-in-client-store", "false",
                "mqttsn.ack-qos0", "true",
                "mqttsn.flood-limit", "20",
                "mqttsn.route-threads", "2"));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    @Test
    void should_key_clients_by_ip_only_and_ack_qos0_after_the_confirm_when_asked() throws Exception {
        try (StoreClient store = new StoreClient(gateway.valkeyUrl());
             UdpClient device = new UdpClient(gateway.udpPort());
             AmqpQueue readings = new AmqpQueue(gateway.amqpUrl(), "mqtt-sn", "compat.#", "compat-" + UUID.randomUUID())) {
            assertThat(device.exchange(message("04 04 01 00 3c", "meter"))).isEqualTo("03 05 00");
            assertThat(store.commands().get("client:127.0.0.1")).isEqualTo("meter");
            assertThat(device.exchange(message("0a 00 00 00 07", "compat/one"))).startsWith("07 0b");
            assertThat(device.exchange(message("0c 00 00 01 00 08", "hello"))).isEqualTo("07 0d 00 01 00 08 00");
            assertThat(readings.next(Duration.ofSeconds(5)).getBody()).asString().isEqualTo("hello");
        }
    }

    @Test
    void should_drop_a_flood_from_one_address_and_still_serve_others() throws Exception {
        try (UdpClient flooder = new UdpClient(gateway.udpPort()); UdpClient neighbour = new UdpClient(gateway.udpPort())) {
            for (int i = 0; i < 200; i++) {
                flooder.send(bytes("02 16", ""));
            }
            int answered = 0;
            while (flooder.receive(300) != null) {
                answered++;
            }
            assertThat(answered).as("PINGRESPs for 200 PINGREQs within the limit of 20/s").isBetween(20, 60);
            assertThat(neighbour.exchange(bytes("02 16", ""))).isEqualTo("02 17");
        }
    }
}
