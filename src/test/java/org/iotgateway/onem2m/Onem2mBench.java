package org.iotgateway.onem2m;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.MqttTestClient.Received;
import org.iotgateway.testing.RunningGateway;

/**
 * The oneM2M binding's benchmark (run by bench/onem2m, not by the tests): REQUESTS retrieve requests, one at a time, to
 * the stub CSE directly over HTTP (the baseline) and through the bridge as request primitives over the broker; then the
 * same burst published at once. Needs IT_MQTT_URL. Prints key=value lines. Arguments: requests rounds.
 */
public final class Onem2mBench {

    private Onem2mBench() {
    }

    public static void main(String[] args) throws Exception {
        int requests = Integer.parseInt(args[0]);
        int rounds = Integer.parseInt(args[1]);
        String cseId = "bench-cse";
        try (StubCse cse = new StubCse(RunningGateway.freeTcpPort());
             RunningGateway gateway = RunningGateway.startOnly("onem2m", Map.of("onem2m.enabled", "true",
                     "onem2m.cse-id", cseId, "onem2m.cse-url", cse.url(), "onem2m.http-to-mqtt-enabled", "false"))) {
            gateway.awaitMqttReady("onem2mMqtt");
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            try (MqttTestClient ae = new MqttTestClient(gateway.property("onem2m.mqtt-url"))) {
                BlockingQueue<Received> responses = ae.subscribe("/oneM2M/resp/CBENCH/#");
                for (int round = 0; round <= rounds; round++) {
                    // round 0 warms the JIT and is not printed
                    long[] direct = new long[requests];
                    long[] bridged = new long[requests];
                    long start = System.nanoTime();
                    for (int i = 0; i < requests; i++) {
                        long sent = System.nanoTime();
                        HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create(cse.url() + "/onem2m"))
                                .header("X-M2M-Origin", "CBENCH").header("X-M2M-RI", "d" + i).build(), HttpResponse.BodyHandlers.ofString());
                        if (answer.statusCode() != 200) {
                            throw new IllegalStateException("the stub answered " + answer.statusCode());
                        }
                        direct[i] = System.nanoTime() - sent;
                    }
                    double directSeconds = (System.nanoTime() - start) / 1e9;
                    start = System.nanoTime();
                    for (int i = 0; i < requests; i++) {
                        long sent = System.nanoTime();
                        ae.publish("/oneM2M/req/CBENCH/" + cseId + "/json", ("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CBENCH\",\"rqi\":\"b"
                                + round + "-" + i + "\"}").getBytes(StandardCharsets.UTF_8), 1, false);
                        if (responses.poll(10, TimeUnit.SECONDS) == null) {
                            throw new IllegalStateException("no response to request " + i);
                        }
                        bridged[i] = System.nanoTime() - sent;
                    }
                    double bridgedSeconds = (System.nanoTime() - start) / 1e9;
                    start = System.nanoTime();
                    for (int i = 0; i < requests; i++) {
                        ae.publish("/oneM2M/req/CBENCH/" + cseId + "/json", ("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CBENCH\",\"rqi\":\"c"
                                + round + "-" + i + "\"}").getBytes(StandardCharsets.UTF_8), 1, false);
                    }
                    int answered = 0;
                    while (answered < requests && responses.poll(30, TimeUnit.SECONDS) != null) {
                        answered++;
                    }
                    double burstSeconds = (System.nanoTime() - start) / 1e9;
                    if (round > 0) {
                        System.out.printf("round_%d_direct_per_second=%.0f%nround_%d_direct_p50_ms=%.2f%nround_%d_direct_p99_ms=%.2f%n",
                                round, requests / directSeconds, round, percentile(direct, 0.5), round, percentile(direct, 0.99));
                        System.out.printf("round_%d_bridge_per_second=%.0f%nround_%d_bridge_p50_ms=%.2f%nround_%d_bridge_p99_ms=%.2f%n",
                                round, requests / bridgedSeconds, round, percentile(bridged, 0.5), round, percentile(bridged, 0.99));
                        System.out.printf("round_%d_burst_per_second=%.0f%nround_%d_burst_answered=%d%n", round, answered / burstSeconds,
                                round, answered);
                    }
                }
            }
        }
    }

    private static double percentile(long[] nanos, double quantile) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)] / 1e6;
    }
}
