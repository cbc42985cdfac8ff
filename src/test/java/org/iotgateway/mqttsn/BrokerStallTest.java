package org.iotgateway.mqttsn;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.awaitility.Awaitility;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StallingProxy;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.bytes;
import static org.iotgateway.testing.Vectors.message;

/**
 * RabbitMQ stops reading while a meter sends thousands of readings (a broker far behind, a network that stalls): the
 * gateway's writes to it fill the socket's buffers and block. The socket's thread publishes small readings itself, so
 * it must stop doing so before its writes could block, and leave the waiting to the publisher's writer: other devices
 * are still answered at once.
 */
class BrokerStallTest {

    private static final int READINGS = 10_000;
    private static final int PAYLOAD_BYTES = 1_000;

    @Test
    void should_answer_other_devices_at_once_while_rabbitmq_stops_reading() throws Exception {
        try (StallingProxy relay = StallingProxy.toRabbitMq();
             RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of(
                     "mqttsn.amqp-connection-string", relay.url(),
                     "mqttsn.use-port-number-in-client-store", "true",
                     "mqttsn.max-in-flight", Integer.toString(2 * READINGS),
                     "mqttsn.flood-limit", "0"));
             UdpClient meter = new UdpClient(gateway.udpPort());
             UdpClient other = new UdpClient(gateway.udpPort())) {
            Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().contains("UP"));
            assertThat(meter.exchange(message("04 04 01 00 3c", "stalling-meter"))).isEqualTo("03 05 00");
            assertThat(meter.exchange(message("0a 00 00 00 01", "stall/readings"))).isEqualTo("07 0b 00 01 00 01 00");
            assertThat(meter.exchange(message("0c 20 00 01 00 01", "through the relay"))).isEqualTo("07 0d 00 01 00 01 00");

            relay.stall();
            try {
                floodWhileStalled(meter, gateway);
                assertOtherDevicesAnswered(other);
            } finally {
                // a failed assertion must not leave the gateway's stop waiting on a broker that never reads
                relay.resume();
            }
            other.send(message("0c 20 00 01 00 01", "after the stall"));
            Awaitility.await().atMost(60, TimeUnit.SECONDS).pollInterval(0, TimeUnit.SECONDS).until(
                    () -> "07 0d 00 01 00 01 00".equals(other.receive(1000)));
        }
    }

    /** 10 MB of QoS 0 readings, more than the kernel buffers between the gateway and the relay can take. */
    private static void floodWhileStalled(UdpClient meter, RunningGateway gateway) throws Exception {
        for (int i = 1; i <= READINGS; i++) {
            meter.send(longPublishQos0(PAYLOAD_BYTES));
            if (i % 100 == 0) {
                // paced, so that the gateway's UDP receive buffer does not overflow and drop the flood
                Thread.sleep(5);
            }
        }
        // the stall reached the gateway: most of the flood waits for a confirm RabbitMQ cannot send
        Awaitility.await().atMost(30, TimeUnit.SECONDS).until(() -> inFlight(gateway) >= READINGS / 2);
    }

    private static double inFlight(RunningGateway gateway) throws Exception {
        Matcher gauge = Pattern.compile("(?m)^mqttsn_inflight\\{[^}]*} (\\S+)$").matcher(gateway.metrics());
        return gauge.find() ? Double.parseDouble(gauge.group(1)) : 0;
    }

    private static void assertOtherDevicesAnswered(UdpClient other) throws Exception {
        long start = System.nanoTime();
        assertThat(other.exchange(message("04 04 01 00 3c", "other-meter"))).as("CONNACK").isEqualTo("03 05 00");
        assertThat(other.exchange(bytes("02 16", ""))).as("PINGRESP").isEqualTo("02 17");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).as("ms to answer both").isLessThan(2_000);
        assertThat(other.exchange(message("0a 00 00 00 01", "stall/other"))).isEqualTo("07 0b 00 01 00 01 00");
    }

    /** A QoS 0 PUBLISH on topic id 1 in the 3-octet length form. */
    private static byte[] longPublishQos0(int payloadBytes) {
        byte[] payload = new byte[payloadBytes];
        Arrays.fill(payload, (byte) 'r');
        int length = 9 + payloadBytes;
        return ByteBuffer.allocate(length).put((byte) 0x01).putShort((short) length)
                .put((byte) 0x0c).put((byte) 0x00).putShort((short) 1).putShort((short) 0).put(payload).array();
    }
}
