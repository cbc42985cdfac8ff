package org.iotgateway.inverter;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.MqttTestClient.Received;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.TestPki;

/**
 * The inverter bridge's benchmark (run by bench/inverter, not by the tests): a burst of Modbus requests against the
 * web API stub with a fixed latency, through the bridge at its configured concurrency and at concurrency 1 (how the
 * original handled them), against the baseline of an HTTP client calling the stub directly with the same concurrency;
 * then the drift of the state period. Prints key=value lines.
 * Arguments: requests latencyMillis concurrency driftSeconds statePeriodMillis.
 */
public final class InverterBench {

    private static final Pattern ADDRESS = Pattern.compile("\"address\":(\\d+),\"bench\":true}");
    private static final Pattern TIMESTAMP = Pattern.compile("\"timestamp\":\"([^\"]+)\"");

    private InverterBench() {
    }

    public static void main(String[] args) throws Exception {
        int requests = Integer.parseInt(args[0]);
        long latency = Long.parseLong(args[1]);
        int concurrency = Integer.parseInt(args[2]);
        int driftSeconds = Integer.parseInt(args[3]);
        int statePeriod = Integer.parseInt(args[4]);
        Path work = Files.createTempDirectory("inverter-bench");
        TestPki pki = TestPki.create(Files.createDirectories(work.resolve("pki")));
        int brokerPort = RunningGateway.freeTcpPort();
        try (SolarGatewayStub webApi = new SolarGatewayStub(RunningGateway.freeTcpPort());
             JwtCheckingBroker broker = new JwtCheckingBroker(work.resolve("broker"), brokerPort, pki, webApi::rejection);
             MqttTestClient cloud = new MqttTestClient("ssl://localhost:" + brokerPort, JwtCheckingBroker.CLOUD_USER,
                     JwtCheckingBroker.CLOUD_PASSWORD, pki.clientSocketFactory())) {
            webApi.modbusLatencyMillis = latency;
            BlockingQueue<Received> responses = cloud.subscribe("iamcat/modbus/response");
            BlockingQueue<Received> states = cloud.subscribe("iamcat/state");
            Map<String, String> settings = new HashMap<>(Map.of("inverter.enabled", "true",
                    "inverter.broker-host", "localhost", "inverter.broker-port", Integer.toString(brokerPort),
                    "inverter.root-ca", pki.caPem().toString(), "inverter.web-host", "127.0.0.1",
                    "inverter.web-port", webApi.url().replaceAll(".*:", ""), "inverter.state-period-millis", Integer.toString(statePeriod)));

            direct("direct", webApi, requests, concurrency);
            for (int bridgeConcurrency : new int[] {concurrency, 1}) {
                settings.put("inverter.concurrency", Integer.toString(bridgeConcurrency));
                try (RunningGateway gateway = RunningGateway.startOnly("inverter", settings)) {
                    gateway.awaitMqttReady("inverterMqtt");
                    // a few requests to warm the JIT, not counted
                    burst(null, cloud, responses, webApi, 50);
                    burst("bridge_c" + bridgeConcurrency, cloud, responses, webApi, requests);
                    if (bridgeConcurrency == concurrency) {
                        drift(states, driftSeconds, statePeriod);
                    }
                }
            }
        }
    }

    /** The baseline: the same calls straight to the stub from a pool of the same size. */
    private static void direct(String name, SolarGatewayStub webApi, int requests, int concurrency) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        webApi.maxInFlight.set(0);
        long start = System.nanoTime();
        List<Future<Integer>> calls = new ArrayList<>();
        for (int address = 0; address < requests; address++) {
            URI uri = URI.create(webApi.url() + "/api/inverter/modbus?device_id=" + SolarGatewayStub.DEVICE
                    + "&function_code=3&address=" + address + "&size=1&type=U16&endianess=big&scale_factor=1");
            calls.add(pool.submit(() -> http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).statusCode()));
        }
        int ok = 0;
        for (Future<Integer> call : calls) {
            ok += call.get() == 200 ? 1 : 0;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        System.out.printf("%s_seconds=%.3f%n%s_requests_per_second=%.1f%n%s_answered=%d%n%s_max_in_flight=%d%n",
                name, seconds, name, requests / seconds, name, ok, name, webApi.maxInFlight.get());
    }

    private static void burst(String name, MqttTestClient cloud, BlockingQueue<Received> responses, SolarGatewayStub webApi,
                              int requests) throws Exception {
        responses.clear();
        webApi.maxInFlight.set(0);
        long[] sentAt = new long[requests];
        long start = System.nanoTime();
        for (int address = 0; address < requests; address++) {
            sentAt[address] = System.currentTimeMillis();
            cloud.publish("iamcat/modbus/request", ("{\"function_code\":3,\"device_id\":\"" + SolarGatewayStub.DEVICE
                    + "\",\"address\":" + address + ",\"bench\":true}").getBytes(StandardCharsets.UTF_8), 1, false);
        }
        long[] latencies = new long[requests];
        boolean[] seen = new boolean[requests];
        int answered = 0;
        int duplicates = 0;
        while (answered < requests) {
            Received response = responses.poll(120, TimeUnit.SECONDS);
            if (response == null) {
                break;
            }
            Matcher matcher = ADDRESS.matcher(response.text());
            if (matcher.find() && response.text().contains("\"value\":50.0")) {
                int address = Integer.parseInt(matcher.group(1));
                if (seen[address]) {
                    duplicates++;
                } else {
                    seen[address] = true;
                    latencies[answered++] = response.atMillis() - sentAt[address];
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (name == null) {
            return;
        }
        long[] sorted = Arrays.copyOf(latencies, answered);
        Arrays.sort(sorted);
        System.out.printf("%s_seconds=%.3f%n%s_requests_per_second=%.1f%n%s_answered=%d%n%s_lost=%d%n%s_duplicates=%d%n"
                        + "%s_max_in_flight=%d%n%s_p50_ms=%d%n%s_p99_ms=%d%n",
                name, seconds, name, answered / seconds, name, answered, name, requests - answered, name, duplicates,
                name, webApi.maxInFlight.get(), name, percentile(sorted, 0.5), name, percentile(sorted, 0.99));
    }

    /** How far the k-th state message's timestamp is from first + k * period. */
    private static void drift(BlockingQueue<Received> states, int seconds, int period) throws Exception {
        states.clear();
        List<Instant> stamps = new ArrayList<>();
        long end = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < end) {
            Received state = states.poll(5, TimeUnit.SECONDS);
            if (state != null) {
                Matcher matcher = TIMESTAMP.matcher(state.text());
                if (matcher.find()) {
                    stamps.add(Instant.parse(matcher.group(1)));
                }
            }
        }
        double worst = 0;
        Instant first = stamps.get(0);
        for (int k = 0; k < stamps.size(); k++) {
            double offset = (stamps.get(k).toEpochMilli() - first.toEpochMilli()) - (double) k * period;
            worst = Math.max(worst, Math.abs(offset));
        }
        int last = stamps.size() - 1;
        double finalDrift = (stamps.get(last).toEpochMilli() - first.toEpochMilli()) - (double) last * period;
        double elapsedHours = last * (double) period / 3_600_000;
        System.out.printf("state_messages=%d%nstate_period_ms=%d%nstate_final_drift_ms=%.1f%nstate_worst_offset_ms=%.1f%n"
                        + "state_drift_ms_per_hour=%.1f%n",
                stamps.size(), period, finalDrift, worst, finalDrift / elapsedHours);
    }

    private static long percentile(long[] sorted, double quantile) {
        return sorted.length == 0 ? -1 : sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
    }
}
