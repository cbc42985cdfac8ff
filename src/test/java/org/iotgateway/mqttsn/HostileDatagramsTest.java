package org.iotgateway.mqttsn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.iotgateway.testing.Heap;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.iotgateway.testing.Vectors.bytes;
import static org.iotgateway.testing.Vectors.message;

/**
 * A bounded, seeded fuzzing run against the UDP listener: datagrams made by mutating every kind of MQTT-SN message
 * (bit flips, truncation, wrong lengths, random types, random bytes, 3-octet lengths, forwarder encapsulation), from
 * many source addresses. Throughout, a meter elsewhere has each reading acknowledged; afterwards the heap is back near
 * where it started and every datagram the gateway received is counted. The seed is printed: a failure replays with
 * -Dfuzz.seed=N.
 */
class HostileDatagramsTest {

    static final int DATAGRAMS = 60_000;
    static final int SOURCES = 24;
    /** Datagrams a second in all: 10 times one source's flood limit across the sources, so most are decoded. */
    static final int RATE = 12_000;

    static final byte[][] CORPUS = {
            bytes("16 04 04 01 fd 20", "94193A04010020B8"),
            bytes("27 0a 00 00 ff cb", "mr/94193A04010020B8/standard/json"),
            bytes("a2 0c a0 00 01 c7 92", "{\"TS\":\"2021-07-05T18:00:00Z\",\"ID\":224396}"),
            bytes("0c 0c 00 00 02 00 00", "hello"),
            bytes("09 0c 21 00 05 00 01", "hi"),
            bytes("09 0c 62 78 79 00 00", "m2"),
            bytes("09 0c 40 00 01 00 09", "q2"),
            bytes("04 10 00 09", ""),
            bytes("02 16", ""),
            bytes("0a 16", "sleeper1"),
            bytes("04 18 00 0a", ""),
            bytes("02 18", ""),
            bytes("03 01 00", ""),
            message("12 20 00 01", "cmd/+/#"),
            message("14 00 00 02", "cmd/x"),
            message("07 00", "will/topic"),
            message("09", "gone"),
            message("1a 00", "will/update"),
            bytes("07 0d 00 01 00 01 00", ""),
            bytes("07 fe 00 30 31 30 32 08 0c 61 00 01 00 00 78", ""),
            bytes("01 00 0a 0c 00 00 02 00 00 68 69", ""),
    };

    @Test
    void should_survive_a_fuzzing_run_serving_a_meter_throughout_with_the_heap_bounded() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        System.out.printf("HostileDatagramsTest seed %d%n", seed);
        Random random = new Random(seed);
        try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.predefined-topics", "1=fuzz/predefined"));
             UdpClient meter = UdpClient.atOwnAddress(gateway.udpPort())) {
            String clientId = "fuzz-" + UUID.randomUUID().toString().substring(0, 8);
            assertThat(meter.exchange(message("04 04 01 00 3c", clientId))).isEqualTo("03 05 00");
            assertThat(meter.exchange(message("0a 00 00 00 01", "fuzz/" + clientId))).isEqualTo("07 0b 00 01 00 01 00");
            long heapBefore = Heap.usedAfterGc();

            List<UdpClient> sources = new ArrayList<>();
            int acknowledged = 0;
            int readings = 0;
            try {
                for (int i = 0; i < SOURCES; i++) {
                    sources.add(UdpClient.atOwnAddress(gateway.udpPort()));
                }
                long start = System.nanoTime();
                for (int sent = 0; sent < DATAGRAMS; sent++) {
                    sources.get(random.nextInt(SOURCES)).send(mutate(CORPUS[random.nextInt(CORPUS.length)], random));
                    if (sent % 2_000 == 0) {
                        readings++;
                        String msgId = String.format("%02x %02x", readings >> 8, readings & 0xff);
                        if (("07 0d 00 01 " + msgId + " 00").equals(meter.exchange(message("0c 20 00 01 " + msgId, "r" + readings)))) {
                            acknowledged++;
                        }
                    }
                    LockSupport.parkNanos(start + (sent + 1) * 1_000_000_000L / RATE - System.nanoTime());
                }
            } finally {
                sources.forEach(UdpClient::close);
            }
            // every datagram handled: the received count stands still
            long[] last = {-1};
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).pollInterval(java.time.Duration.ofMillis(200))
                    .until(() -> {
                        long now = counter(gateway.metrics(), "mqttsn_datagrams_received_total\\{[^}]*} ([0-9.E]+)");
                        boolean still = now == last[0];
                        last[0] = now;
                        return still;
                    });
            long heapAfter = Heap.usedAfterGc();
            String metrics = gateway.metrics();
            long received = counter(metrics, "mqttsn_datagrams_received_total\\{[^}]*} ([0-9.E]+)");
            long dropped = sum(metrics, "mqttsn_datagrams_dropped_total\\{[^}]*} ([0-9.E]+)");
            long refused = sum(metrics, "mqttsn_refused_total\\{[^}]*} ([0-9.E]+)");
            System.out.printf("Fuzzing: %,d datagrams from %d sources at %,d/s; received %,d, dropped %,d (by reason in"
                              + " mqttsn_datagrams_dropped_total), refused by a limit %,d; meter %d of %d acknowledged;"
                              + " heap after GC %d MB before, %d MB after%n",
                    DATAGRAMS, SOURCES, RATE, received, dropped, refused, acknowledged, readings,
                    heapBefore >> 20, heapAfter >> 20);

            assertThat(acknowledged).as("the meter's readings acknowledged during the run").isEqualTo(readings);
            assertThat(meter.exchange(bytes("02 16", ""))).as("the socket still answers").isEqualTo("02 17");
            assertThat(received).as("datagrams the gateway counted").isGreaterThan(DATAGRAMS * 9L / 10);
            assertThat(dropped).as("bad datagrams counted").isPositive();
            assertThat(heapAfter - heapBefore).as("heap growth in bytes").isLessThan(48L << 20);
        }
    }

    /** One to three mutations of a corpus message, or (one time in ten) random bytes. */
    static byte[] mutate(byte[] seed, Random random) {
        if (random.nextInt(10) == 0) {
            byte[] noise = new byte[1 + random.nextInt(random.nextBoolean() ? 16 : 1400)];
            random.nextBytes(noise);
            return noise;
        }
        byte[] datagram = seed.clone();
        for (int m = 1 + random.nextInt(3); m > 0; m--) {
            switch (random.nextInt(7)) {
                case 0 -> datagram[random.nextInt(datagram.length)] ^= (byte) (1 << random.nextInt(8));
                case 1 -> datagram[random.nextInt(datagram.length)] = (byte) random.nextInt(256);
                case 2 -> datagram = java.util.Arrays.copyOf(datagram, Math.max(1, random.nextInt(datagram.length + 1)));
                case 3 -> {
                    byte[] longer = java.util.Arrays.copyOf(datagram, datagram.length + 1 + random.nextInt(64));
                    for (int i = datagram.length; i < longer.length; i++) {
                        longer[i] = (byte) random.nextInt(256);
                    }
                    datagram = longer;
                }
                case 4 -> datagram[0] = (byte) random.nextInt(256);
                case 5 -> {
                    if (datagram.length > 1) {
                        datagram[1] = (byte) random.nextInt(256);
                    }
                }
                default -> {
                    // claim the 3-octet length form with a length that may or may not be right
                    byte[] threeOctet = new byte[datagram.length + 2];
                    int length = random.nextBoolean() ? threeOctet.length : random.nextInt(65536);
                    threeOctet[0] = 0x01;
                    threeOctet[1] = (byte) (length >> 8);
                    threeOctet[2] = (byte) length;
                    System.arraycopy(datagram, 1, threeOctet, 3, datagram.length - 1);
                    datagram = threeOctet;
                }
            }
        }
        return datagram;
    }

    static long counter(String metrics, String pattern) {
        Matcher matcher = Pattern.compile(pattern).matcher(metrics);
        return matcher.find() ? (long) Double.parseDouble(matcher.group(1)) : 0;
    }

    static long sum(String metrics, String pattern) {
        Matcher matcher = Pattern.compile(pattern).matcher(metrics);
        long total = 0;
        while (matcher.find()) {
            total += (long) Double.parseDouble(matcher.group(1));
        }
        return total;
    }
}
