package org.iotgateway.mqttsn.store;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.zip.CRC32;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The names of the store's keys. On one server (alone, or a master followed through Sentinel) they are the Python
 * gateway's and this gateway's plain names ({@code session:{clientId}}, {@code mqttsn:deadlines}), so that both
 * gateways can share a store.
 * <p>
 * On a Redis Cluster a script may only reach keys of one hash slot, and the store's scripts reach several keys of a
 * client, the sorted sets of deadlines and retries, and, for a downlink message, the sessions of all its subscribers.
 * So every client belongs to one of {@value #CLUSTER_BUCKETS} buckets (the CRC-32 of its client id's UTF-8 bytes,
 * modulo {@value #CLUSTER_BUCKETS}), and the bucket is a hash tag in each of its keys, after the prefix so that the
 * server's key tracking still goes by prefix: {@code session:{17}:meter-1}. Each bucket has its own
 * {@code mqttsn:deadlines:{17}} and {@code mqttsn:retries:{17}}, and its own index of subscribers
 * {@code subscribers:{17}:filter} (the clients of that bucket only). The bucket count spreads the store over up to a
 * few dozen masters evenly enough while the supervision's sweep, one script per bucket a second, stays cheap. The
 * addresses' keys ({@code client:}, {@code clients-at:}) stay as they are: no script reaches them with another key.
 */
final class KeyLayout {

    /** The buckets on a Cluster: every instance must count the same, it decides every client key's name. */
    static final int CLUSTER_BUCKETS = 256;

    /** One server: the plain names, one bucket, no tags. */
    static final KeyLayout SINGLE_SERVER = new KeyLayout(1);
    static final KeyLayout CLUSTER = new KeyLayout(CLUSTER_BUCKETS);

    private static final Logger LOG = LoggerFactory.getLogger(KeyLayout.class);
    private static final long PARTIAL_WARNING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final AtomicLong lastPartialWarning = new AtomicLong(System.nanoTime() - PARTIAL_WARNING_INTERVAL_NANOS);
    private static final AtomicLong partialWarningsLeftOut = new AtomicLong();
    private static final Pattern TAGGED = Pattern.compile("^\\{(\\d{1,9})}:(.*)$", Pattern.DOTALL);

    private final int buckets;

    private KeyLayout(int buckets) {
        this.buckets = buckets;
    }

    boolean clustered() {
        return buckets > 1;
    }

    int buckets() {
        return buckets;
    }

    int bucket(String clientId) {
        if (buckets == 1) {
            return 0;
        }
        CRC32 crc = new CRC32();
        crc.update(clientId.getBytes(StandardCharsets.UTF_8));
        return (int) (crc.getValue() % buckets);
    }

    /** What goes between a key's prefix and its client id (or filter): {@code {17}:}, or nothing on one server. */
    String tag(int bucket) {
        return buckets == 1 ? "" : "{" + bucket + "}:";
    }

    /** A key of the client's: {@code session:} and its id give {@code session:{17}:id} on a Cluster. */
    String client(String prefix, String clientId) {
        return prefix + tag(bucket(clientId)) + clientId;
    }

    /** A key of the bucket's, such as the deadlines: {@code mqttsn:deadlines:{17}} on a Cluster. */
    String ofBucket(String name, int bucket) {
        return buckets == 1 ? name : name + ":{" + bucket + "}";
    }

    /** The bucket's key of one of the client's buckets, such as its deadlines. */
    String ofClientsBucket(String name, String clientId) {
        return ofBucket(name, bucket(clientId));
    }

    /** The index of a filter's subscribers in a bucket. */
    String subscribers(int bucket, String filter) {
        return Subscriptions.SUBSCRIBERS_PREFIX + tag(bucket) + filter;
    }

    /**
     * What a key names once its prefix is off: the client id or filter, and its bucket (0 on one server); null for a key
     * of the other layout.
     */
    Named named(String afterPrefix) {
        if (buckets == 1) {
            return new Named(0, afterPrefix);
        }
        Matcher tagged = TAGGED.matcher(afterPrefix);
        if (!tagged.matches() || Integer.parseInt(tagged.group(1)) >= buckets) {
            return null;
        }
        return new Named(Integer.parseInt(tagged.group(1)), tagged.group(2));
    }

    record Named(int bucket, String name) {
    }

    /**
     * Runs a script in each of the buckets, all at once, and gathers what {@code parse} makes of each one's flat answer,
     * bucket by bucket. A bucket whose script fails (on a Cluster: its master unreachable, as during a failover) is
     * tried again a second later, {@code attempts} times in all, then left out, logged: the other buckets' answers are
     * not thrown away for it. Fails only when no bucket answered.
     */
    static <T> CompletableFuture<List<T>> inBuckets(String what, IntStream buckets, int attempts,
                                                    IntFunction<CompletionStage<List<Object>>> script,
                                                    BiConsumer<List<Object>, List<T>> parse) {
        List<CompletableFuture<List<Object>>> calls = buckets.mapToObj(bucket -> attempt(script, bucket, attempts)).toList();
        return CompletableFuture.allOf(calls.stream().map(call -> call.exceptionally(e -> null)).toArray(CompletableFuture[]::new))
                .thenApply(done -> {
                    List<T> gathered = new ArrayList<>();
                    Throwable failure = null;
                    int failed = 0;
                    for (CompletableFuture<List<Object>> call : calls) {
                        List<Object> answer;
                        try {
                            answer = call.join();
                        } catch (CompletionException e) {
                            failure = e.getCause() == null ? e : e.getCause();
                            failed++;
                            continue;
                        }
                        parse.accept(answer, gathered);
                    }
                    if (failed == calls.size() && failed > 0) {
                        throw failure instanceof CompletionException completion ? completion : new CompletionException(failure);
                    }
                    if (failed > 0) {
                        warnPartial(what + ": " + failed + " of " + calls.size() + " buckets not reached (" + failure.getMessage()
                                + "); the others' are done");
                    }
                    return gathered;
                });
    }

    /** While a master is down this happens every second: one warning per 10 s, with how many were left out. */
    private static void warnPartial(String message) {
        long now = System.nanoTime();
        long last = lastPartialWarning.get();
        if (now - last >= PARTIAL_WARNING_INTERVAL_NANOS && lastPartialWarning.compareAndSet(last, now)) {
            long left = partialWarningsLeftOut.getAndSet(0);
            LOG.warn("{}{}", message, left == 0 ? "" : " (" + left + " more since the last report)");
        } else {
            partialWarningsLeftOut.incrementAndGet();
            LOG.debug(message);
        }
    }

    private static CompletableFuture<List<Object>> attempt(IntFunction<CompletionStage<List<Object>>> script, int bucket, int attempts) {
        CompletableFuture<List<Object>> call = script.apply(bucket).toCompletableFuture();
        return attempts <= 1 ? call : call.handle((answer, e) -> e == null ? CompletableFuture.completedFuture(answer)
                        : CompletableFuture.supplyAsync(() -> null, CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS))
                                .thenCompose(x -> attempt(script, bucket, attempts - 1)))
                .thenCompose(next -> next);
    }

    /** Every bucket. */
    IntStream all() {
        return IntStream.range(0, buckets);
    }
}
