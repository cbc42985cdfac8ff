package org.iotgateway.mqttsn;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
    void should_drop_a_flood_from_one_ip_whatever_its_ports_and_still_serve_other_ips() throws Exception {
        List<UdpClient> ports = new ArrayList<>();
        try (UdpClient first = UdpClient.atOwnAddress(gateway.udpPort()); UdpClient neighbour = UdpClient.atOwnAddress(gateway.udpPort())) {
            ports.add(first);
            for (int i = 1; i < 50; i++) {
                ports.add(new UdpClient(first.localAddress(), gateway.udpPort()));
            }
            for (int round = 0; round < 4; round++) {
                for (UdpClient port : ports) {
                    port.send(bytes("02 16", ""));
                }
            }
            int answered = 0;
            for (UdpClient port : ports) {
                while (port.receive(answered == 0 ? 300 : 20) != null) {
                    answered++;
                }
            }
            assertThat(answered).as("PINGRESPs for 200 PINGREQs from 50 ports of one ip, within the limit of 20/s").isBetween(20, 60);
            assertThat(neighbour.exchange(bytes("02 16", ""))).isEqualTo("02 17");
        } finally {
            ports.forEach(UdpClient::close);
        }
    }
}
