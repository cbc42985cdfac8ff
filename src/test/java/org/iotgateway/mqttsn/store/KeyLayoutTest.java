package org.iotgateway.mqttsn.store;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.stream.IntStream;

import io.lettuce.core.cluster.SlotHash;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The store's key names on one server and on a Cluster, and how a script runs in several buckets. */
class KeyLayoutTest {

    private static final BiConsumer<List<Object>, List<String>> AS_STRINGS = (flat, all) -> flat.forEach(item -> all.add((String) item));

    @Test
    void should_keep_the_plain_names_on_one_server() {
        KeyLayout keys = KeyLayout.SINGLE_SERVER;
        assertThat(keys.client("session:", "meter-1")).isEqualTo("session:meter-1");
        assertThat(keys.ofClientsBucket("mqttsn:deadlines", "meter-1")).isEqualTo("mqttsn:deadlines");
        assertThat(keys.subscribers(0, "cmd/#")).isEqualTo("subscribers:cmd/#");
        assertThat(keys.named("{17}:meter-1")).isEqualTo(new KeyLayout.Named(0, "{17}:meter-1"));
    }

    @Test
    void should_put_every_key_of_a_client_and_of_its_bucket_in_one_slot_on_a_cluster() {
        KeyLayout keys = KeyLayout.CLUSTER;
        // CRC-32 of "meter-1" is 0x091fcb67 (153078631), modulo 256: 103
        assertThat(keys.bucket("meter-1")).isEqualTo(103);
        assertThat(keys.client("session:", "meter-1")).isEqualTo("session:{103}:meter-1");
        assertThat(keys.ofClientsBucket("mqttsn:deadlines", "meter-1")).isEqualTo("mqttsn:deadlines:{103}");
        assertThat(keys.subscribers(103, "cmd/+")).isEqualTo("subscribers:{103}:cmd/+");
        int slot = SlotHash.getSlot(keys.client("session:", "meter-1"));
        assertThat(List.of(keys.client("topic:", "meter-1"), keys.client("will:", "meter-1"), keys.ofBucket("mqttsn:retries", 103),
                keys.subscribers(103, "cmd/+"))).allSatisfy(key -> assertThat(SlotHash.getSlot(key)).isEqualTo(slot));
    }

    @Test
    void should_keep_a_client_id_with_braces_out_of_the_hash_tag() {
        KeyLayout keys = KeyLayout.CLUSTER;
        String key = keys.client("session:", "{x}y");
        assertThat(SlotHash.getSlot(key)).isEqualTo(SlotHash.getSlot(keys.ofClientsBucket("mqttsn:deadlines", "{x}y")));
        assertThat(keys.named(key.substring("session:".length()))).isEqualTo(new KeyLayout.Named(keys.bucket("{x}y"), "{x}y"));
    }

    @Test
    void should_not_take_a_key_of_the_other_layout_or_an_unknown_bucket_for_a_client() {
        assertThat(KeyLayout.CLUSTER.named("meter-1")).isNull();
        assertThat(KeyLayout.CLUSTER.named("{256}:meter-1")).isNull();
        assertThat(KeyLayout.CLUSTER.named("{99999999999}:meter-1")).isNull();
    }

    @Test
    void should_gather_the_answers_of_the_buckets_that_answered_when_another_fails() {
        List<String> gathered = KeyLayout.<String>inBuckets("test", IntStream.of(1, 2, 3), 1,
                bucket -> bucket == 2 ? CompletableFuture.failedFuture(new IllegalStateException("master down"))
                        : CompletableFuture.completedFuture(List.of("from " + bucket)), AS_STRINGS).join();
        assertThat(gathered).containsExactly("from 1", "from 3");
    }

    @Test
    void should_try_a_failing_bucket_again_a_second_later() {
        Map<Integer, AtomicInteger> calls = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        List<String> gathered = KeyLayout.<String>inBuckets("test", IntStream.of(1, 2), 3, bucket ->
                calls.computeIfAbsent(bucket, b -> new AtomicInteger()).incrementAndGet() == 1 && bucket == 2
                        ? CompletableFuture.failedFuture(new IllegalStateException("failing over"))
                        : CompletableFuture.completedFuture(List.of("from " + bucket)), AS_STRINGS).join();
        assertThat(gathered).containsExactly("from 1", "from 2");
        assertThat(calls.get(1)).hasValue(1);
        assertThat(calls.get(2)).hasValue(2);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void should_fail_with_the_cause_when_no_bucket_answered() {
        assertThatThrownBy(() -> KeyLayout.<String>inBuckets("test", IntStream.of(0), 1,
                bucket -> CompletableFuture.failedFuture(new IllegalStateException("store down")), AS_STRINGS).join())
                .isInstanceOf(CompletionException.class).hasRootCauseMessage("store down");
    }
}
