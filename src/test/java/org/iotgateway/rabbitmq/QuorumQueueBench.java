package org.iotgateway.rabbitmq;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Semaphore;
import java.util.stream.Stream;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmCallback;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import org.iotgateway.testing.Metrics;
import org.iotgateway.testing.RabbitMqCluster;

/**
 * What a reading costs a three-node RabbitMQ cluster (run by bench/quorum, not by the tests): the gateway's message (a
 * persistent reading of the Elvaco vector's size to the topic exchange, with publisher confirms) at a fixed rate into a
 * classic queue and into a quorum queue of the same cluster, taking turns for ROUNDS rounds, one consumer draining each;
 * the CPU of the three nodes' processes per message over the measured window. Prints key=value lines. Arguments:
 * rate warmupSeconds seconds rounds.
 */
public final class QuorumQueueBench {

    private static final int CONFIRM_WINDOW = 500;

    private QuorumQueueBench() {
    }

    public static void main(String[] args) throws Exception {
        int rate = Integer.parseInt(args[0]);
        int warmup = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        byte[] reading = Files.readAllBytes(Path.of("bench", "elvaco-reading.json"));
        try (RabbitMqCluster cluster = new RabbitMqCluster(3, Path.of("target", "quorum-bench"))) {
            RabbitMqCluster.Node first = cluster.nodes().get(0);
            try (Connection publisher = AmqpUrl.parse(cluster.url(first)).connectionFactory().newConnection("bench publisher");
                 Connection consumer = AmqpUrl.parse(cluster.url(cluster.nodes().get(1))).connectionFactory().newConnection("bench consumer")) {
                for (int round = 1; round <= rounds; round++) {
                    for (String type : new String[] {"classic", "quorum"}) {
                        String queue = "bench-" + type;
                        Channel admin = consumer.createChannel();
                        admin.exchangeDeclare("mqtt-sn", "topic", true);
                        admin.queueDeclare(queue, true, false, false, Map.of("x-queue-type", type));
                        admin.queueBind(queue, "mqtt-sn", "mr." + type + ".#");
                        String tag = admin.basicConsume(queue, true, (consumerTag, delivery) -> { }, consumerTag -> { });
                        Channel channel = publisher.createChannel();
                        channel.confirmSelect();
                        Semaphore window = new Semaphore(CONFIRM_WINDOW);
                        NavigableSet<Long> unconfirmed = new ConcurrentSkipListSet<>();
                        ConfirmCallback settled = (sequence, multiple) -> {
                            NavigableSet<Long> done = multiple ? unconfirmed.headSet(sequence, true) : unconfirmed.subSet(sequence, true, sequence, true);
                            int count = done.size();
                            done.clear();
                            window.release(count);
                        };
                        channel.addConfirmListener(settled, settled);
                        String key = "mr." + type + ".BENCH00000000001.standard.json";
                        publish(channel, window, unconfirmed, key, reading, rate, warmup);
                        long ticks = cluster.nodes().stream().mapToLong(QuorumQueueBench::treeTicks).sum();
                        long start = System.nanoTime();
                        long sent = publish(channel, window, unconfirmed, key, reading, rate, seconds);
                        window.acquire(CONFIRM_WINDOW);
                        double elapsed = (System.nanoTime() - start) / 1e9;
                        long used = cluster.nodes().stream().mapToLong(QuorumQueueBench::treeTicks).sum() - ticks;
                        String prefix = "round" + round + "_" + type + "_";
                        System.out.printf(Locale.ROOT, "%smessages_per_second=%.0f%n", prefix, sent / elapsed);
                        System.out.printf(Locale.ROOT, "%srabbitmq_cpu_us_per_message=%.1f%n", prefix, used * 10_000.0 / sent);
                        channel.close();
                        admin.basicCancel(tag);
                        admin.queueDelete(queue);
                        admin.close();
                    }
                }
            }
        }
    }

    /** Publishes at {@code rate} per second for {@code seconds}, at most the confirm window unconfirmed; how many it sent. */
    private static long publish(Channel channel, Semaphore window, NavigableSet<Long> unconfirmed, String key, byte[] body, int rate,
                                int seconds) throws Exception {
        AMQP.BasicProperties properties = MessageProperties.PERSISTENT_BASIC.builder().contentType("application/data")
                .contentEncoding("binary").headers(Map.of("client_id", "BENCH00000000001", "qos", 1)).build();
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        long sent = 0;
        while (System.nanoTime() < end) {
            long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
            while (sent < due) {
                window.acquire();
                unconfirmed.add(channel.getNextPublishSeqNo());
                channel.basicPublish("mqtt-sn", key, properties, body);
                sent++;
            }
            Thread.sleep(1);
        }
        return sent;
    }

    /** User + system CPU ticks (1/100 s) of a node's processes: its script and the Erlang VM under it. */
    private static long treeTicks(RabbitMqCluster.Node node) {
        return Stream.concat(Stream.of(node.process().toHandle()), node.process().descendants())
                .mapToLong(handle -> Metrics.cpuTicks(handle.pid())).sum();
    }
}
