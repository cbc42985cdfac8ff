package org.iotgateway.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Seeded malformed and hostile HTTP/1.1 requests, each on a connection of its own: mutations of valid requests (bytes
 * flipped, cut short, oversized lines and headers, bad chunked bodies, lying lengths, binary noise). For each, what the
 * server did: its status code, or that it closed the connection, or that it said nothing within the wait.
 */
public final class HttpFuzzer {

    /** What became of one request. */
    public enum Outcome { ANSWERED_2XX_3XX, ANSWERED_4XX, ANSWERED_5XX, CLOSED, SILENT }

    /** What a run came to: the outcomes counted, and how much more heap the JVM (the gateway's) holds after it. */
    public record Survey(Map<Outcome, Integer> outcomes, long heapGrowthBytes) {
    }

    private final int port;
    private final long seed;
    private final Random random;
    private final List<String> validRequests;

    /** A fuzzer seeded with {@code -Dfuzz.seed}, or the clock: the seed is printed with the survey, to replay a failure. */
    public HttpFuzzer(int port, List<String> validRequests) {
        this.port = port;
        this.seed = Long.getLong("fuzz.seed", System.nanoTime());
        this.random = new Random(seed);
        this.validRequests = validRequests;
    }

    /** Sends {@code count} hostile requests, 16 connections at a time, waiting up to 4 s for each, and prints the survey. */
    public Survey survey(String listener, int count) throws Exception {
        long heapBefore = Heap.usedAfterGc();
        Map<Outcome, Integer> outcomes = run(count, 4_000, 16);
        long heapAfter = Heap.usedAfterGc();
        System.out.printf("%s HTTP fuzzing (seed %d): %d requests: %s; heap after GC %d MB before, %d MB after%n",
                listener, seed, count, outcomes, heapBefore >> 20, heapAfter >> 20);
        return new Survey(outcomes, heapAfter - heapBefore);
    }

    /**
     * Makes {@code count} hostile requests from the seed, sends them over {@code parallel} connections at a time, and
     * counts the outcomes.
     */
    private Map<Outcome, Integer> run(int count, int waitMillis, int parallel) throws Exception {
        List<byte[]> requests = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            requests.add(hostile());
        }
        Map<Outcome, Integer> outcomes = new ConcurrentHashMap<>();
        ExecutorService senders = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<Outcome>> sent = new ArrayList<>();
            for (byte[] request : requests) {
                sent.add(senders.submit(() -> send(request, waitMillis)));
            }
            for (Future<Outcome> outcome : sent) {
                outcomes.merge(outcome.get(), 1, Integer::sum);
            }
        } finally {
            senders.shutdownNow();
        }
        return new TreeMap<>(outcomes);
    }

    /** Sends one request and waits at most {@code waitMillis} for the server's answer or its closing. */
    private Outcome send(byte[] request, int waitMillis) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            socket.setSoTimeout(waitMillis);
            try {
                socket.getOutputStream().write(request);
            } catch (IOException e) {
                // the server closed while it was being sent (a refused body, a line too long)
                return Outcome.CLOSED;
            }
            InputStream in = socket.getInputStream();
            byte[] status = new byte[12];
            int read = 0;
            try {
                for (int n; read < status.length && (n = in.read(status, read, status.length - read)) > 0; ) {
                    read += n;
                }
            } catch (SocketTimeoutException e) {
                return read == 0 ? Outcome.SILENT : classify(status, read);
            } catch (IOException e) {
                return Outcome.CLOSED;
            }
            return read == 0 ? Outcome.CLOSED : classify(status, read);
        }
    }

    private static Outcome classify(byte[] status, int length) {
        String line = new String(status, 0, length, StandardCharsets.ISO_8859_1);
        if (!line.startsWith("HTTP/1.") || line.length() < 10) {
            return Outcome.ANSWERED_5XX;
        }
        return switch (line.charAt(9)) {
            case '4' -> Outcome.ANSWERED_4XX;
            case '5' -> Outcome.ANSWERED_5XX;
            default -> Outcome.ANSWERED_2XX_3XX;
        };
    }

    private byte[] hostile() {
        String valid = validRequests.get(random.nextInt(validRequests.size()));
        switch (random.nextInt(9)) {
            case 0 -> {
                byte[] noise = new byte[1 + random.nextInt(2048)];
                random.nextBytes(noise);
                return noise;
            }
            case 1 -> {
                return valid.substring(0, random.nextInt(valid.length())).getBytes(StandardCharsets.ISO_8859_1);
            }
            case 2 -> {
                return ("GET /" + "a".repeat(5_000 + random.nextInt(60_000)) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
            }
            case 3 -> {
                return valid.replaceFirst("\r\n", "\r\nX-Big: " + "b".repeat(9_000 + random.nextInt(60_000)) + "\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1);
            }
            case 4 -> {
                String head = valid.substring(0, valid.indexOf("\r\n\r\n"));
                return (head.replaceAll("(?i)\r\ncontent-length: [0-9]+", "") + "\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + Integer.toHexString(random.nextInt(1 << 20)) + (random.nextBoolean() ? "zz" : "") + "\r\nshort\r\n0\r\n\r\n")
                        .getBytes(StandardCharsets.ISO_8859_1);
            }
            case 5 -> {
                return valid.replaceAll("(?i)content-length: [0-9]+", "Content-Length: " + (random.nextBoolean() ? "-5" : "99999999999"))
                        .getBytes(StandardCharsets.ISO_8859_1);
            }
            case 6 -> {
                String[] methods = {"BREW", "GET GET", "", "\u0000", "PUT", "DELETE", "CONNECT", "TRACE"};
                return valid.replaceFirst("^[A-Z]+", methods[random.nextInt(methods.length)]).getBytes(StandardCharsets.ISO_8859_1);
            }
            case 7 -> {
                return valid.replace("HTTP/1.1", random.nextBoolean() ? "HTTP/9.9" : "HTTP/1.1 extra").getBytes(StandardCharsets.ISO_8859_1);
            }
            default -> {
                byte[] bytes = valid.getBytes(StandardCharsets.ISO_8859_1);
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                    bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                }
                return bytes;
            }
        }
    }
}
