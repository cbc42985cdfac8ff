package org.iotgateway.testing;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.iotgateway.testing.Vectors.message;

/**
 * A meter as the outage tests need one: connects and registers once, then publishes a QoS 1 reading (its payload
 * {@code <clientId>#<seq>}) every period, retrying with DUP at the retry interval until acknowledged, congestion (return
 * code 1) included. It never reconnects: another refusal is recorded, as a device would take it as the reason to.
 */
public final class Meter implements Runnable {

    private final String clientId;
    private final String topic;
    private final UdpClient socket;
    private final String address;
    private final long periodMillis;
    private final int retryMillis;
    private final int maxAttempts;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final List<Long> ackTimes = new CopyOnWriteArrayList<>();
    private final List<String> refusals = new CopyOnWriteArrayList<>();
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong abandoned = new AtomicLong();
    private final AtomicLong congestions = new AtomicLong();

    public Meter(String clientId, String topic, UdpClient socket, long periodMillis, int retryMillis, int maxAttempts) {
        this.clientId = clientId;
        this.topic = topic;
        this.socket = socket;
        this.address = socket.localAddress();
        this.periodMillis = periodMillis;
        this.retryMillis = retryMillis;
        this.maxAttempts = maxAttempts;
    }

    /** Publishes until {@link #stop()}, then closes its socket. */
    @Override
    public void run() {
        long start = System.nanoTime();
        try (socket) {
            String connack = socket.exchange(message("04 04 01 02 58", clientId));
            String regack = socket.exchange(message("0a 00 00 00 01", topic));
            if (!"03 05 00".equals(connack) || regack == null || !regack.startsWith("07 0b ") || !regack.endsWith(" 00 01 00")) {
                refusals.add("CONNECT " + connack + ", REGISTER " + regack);
                return;
            }
            String topicId = regack.substring(6, 11);
            for (int seq = 1; running.get(); seq++) {
                publish(topicId, seq);
                long wait = (start + seq * periodMillis * 1_000_000 - System.nanoTime()) / 1_000_000;
                if (wait > 0) {
                    Thread.sleep(wait);
                }
            }
        } catch (Exception | AssertionError e) {
            // an AssertionError too (a reply from an address other than the service's): a meter thread that died
            // silently left only a meter without acknowledgements to wonder about (ScaleOutIT in CI, 2026-12-05)
            refusals.add(clientId + " failed: " + e);
        }
    }

    private void publish(String topicId, int seq) throws Exception {
        int id = (seq % 0xffff) + 1;
        String msgId = String.format("%02x %02x", id >> 8, id & 0xff);
        String payload = clientId + "#" + seq;
        for (int attempt = 0; attempt < maxAttempts; attempt++) {
            if (attempt > 0) {
                retries.incrementAndGet();
            }
            socket.send(message("0c " + (attempt == 0 ? "20" : "a0") + " " + topicId + " " + msgId, payload));
            long deadline = System.nanoTime() + retryMillis * 1_000_000L;
            long left;
            while ((left = (deadline - System.nanoTime()) / 1_000_000) > 0) {
                // a reply from a backend's own address (the balancer's conntrack entry went while it was on its way) is
                // dropped, as a device's client drops a datagram from an address it did not send to
                String reply = socket.receiveIgnoringStrays((int) left);
                if (reply == null) {
                    break;
                }
                if (reply.startsWith("07 0d " + topicId + " " + msgId)) {
                    if (reply.endsWith(" 00")) {
                        acknowledged.add(payload);
                        ackTimes.add(System.nanoTime());
                        return;
                    }
                    if (!reply.endsWith(" 01")) {
                        refusals.add(payload + ": " + reply);
                        return;
                    }
                    // congestion: the same reading again after the retry interval
                    congestions.incrementAndGet();
                    Thread.sleep(Math.max(0, (deadline - System.nanoTime()) / 1_000_000));
                    break;
                }
            }
        }
        abandoned.incrementAndGet();
    }

    public void stop() {
        running.set(false);
    }

    /** The device's IP address as the gateway sees it. */
    public String address() {
        return address;
    }

    /** The payloads of the readings the gateway acknowledged. */
    public Set<String> acknowledged() {
        return acknowledged;
    }

    public List<String> refusals() {
        return refusals;
    }

    public long retries() {
        return retries.get();
    }

    /** PUBACKs with return code 1 (congestion), after which the reading was sent again. */
    public long congestions() {
        return congestions.get();
    }

    /** Replies dropped because they came from an address other than the one the meter sends to. */
    public long strayReplies() {
        return socket.strayDatagrams();
    }

    /** Readings given up after the last attempt. */
    public long abandoned() {
        return abandoned.get();
    }

    /** Nanoseconds from {@code instant} (System.nanoTime) to the first acknowledgement after it, or -1. */
    public long firstAckAfter(long instant) {
        return ackTimes.stream().filter(time -> time > instant).findFirst().map(time -> time - instant).orElse(-1L);
    }
}
