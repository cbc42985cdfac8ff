package org.iotgateway.onem2m;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.iotgateway.testing.Metrics;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.MqttTestClient.Received;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two instances of the binding for one CSE, each with its own client id, in one MQTT 5 share group
 * (onem2m.mqtt-share-group), against the stub CSE and the real broker: each request an AE publishes is carried to the
 * CSE once, by one of them, and answered once; each HTTP request is answered by the instance that received it with its
 * own response, whichever instance the broker hands responses to.
 */
class Onem2mInstancesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    static final int REQUESTS = 40;

    private static RunningGateway instance(String cse, StubCse stub, String mqttCse, String name) throws Exception {
        Map<String, String> settings = new HashMap<>(Map.of("onem2m.enabled", "true", "onem2m.cse-id", cse,
                // as camel-k/onem2m gives it, with the pod's name in place of the environment's HOSTNAME
                "onem2m.cse-url", stub.url(), "onem2m.mqtt-client-id", "C::{{onem2m.cse-id}}-{{instance.name}}", "instance.name", name,
                "onem2m.mqtt-share-group", "binding-" + cse, "onem2m.mqtt-cse-id", mqttCse));
        RunningGateway gateway = RunningGateway.startOnly("onem2m", settings);
        gateway.awaitMqttReady("onem2mMqtt");
        return gateway;
    }

    @Test
    void should_carry_each_published_request_once_and_answer_each_http_request_by_its_own_instance() throws Exception {
        String cse = "mn-cse-" + System.nanoTime();
        String mqttCse = "in-cse-" + System.nanoTime();
        try (StubCse stub = new StubCse(RunningGateway.freeTcpPort());
             RunningGateway a = instance(cse, stub, mqttCse, "a");
             RunningGateway b = instance(cse, stub, mqttCse, "b");
             MqttTestClient ae = new MqttTestClient(a.property("onem2m.mqtt-url"))) {
            BlockingQueue<Received> responses = ae.subscribe("/oneM2M/resp/CAE9/#");
            for (int i = 0; i < REQUESTS; i++) {
                ae.publish("/oneM2M/req/CAE9/" + cse + "/json", ("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE9\",\"rqi\":\"r" + i
                        + "\",\"rvi\":\"3\"}").getBytes(StandardCharsets.UTF_8), 1, false);
            }
            List<String> answered = new ArrayList<>();
            Received response;
            while ((response = responses.poll(3, TimeUnit.SECONDS)) != null) {
                JsonNode primitive = JSON.readTree(response.text());
                assertThat(primitive.path("rsc").asInt()).isEqualTo(2000);
                answered.add(primitive.path("rqi").asText());
            }
            assertThat(answered).as("one response per request").hasSize(REQUESTS).doesNotHaveDuplicates();
            assertThat(stub.received).as("each request carried to the CSE once").hasSize(REQUESTS);
            assertThat(carried(a)).as("requests instance a carried").isPositive();
            assertThat(carried(b)).as("requests instance b carried").isPositive();

            // the other way: HTTP requests to both instances at once, the CSE on the broker answering each
            try (MqttBoundCse onBroker = new MqttBoundCse(a.property("onem2m.mqtt-url"), mqttCse)) {
                List<CompletableFuture<HttpResponse<String>>> pending = new ArrayList<>();
                for (int i = 0; i < 10; i++) {
                    RunningGateway to = i % 2 == 0 ? a : b;
                    pending.add(HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to.property("onem2m.http-port")
                                    + "/~/" + mqttCse + "/cse-base")).header("X-M2M-Origin", "Capp" + i).header("X-M2M-RI", "h" + i)
                            .header("X-M2M-RVI", "3").timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()));
                }
                Set<String> asked = new TreeSet<>();
                for (int i = 0; i < 10; i++) {
                    asked.add(onBroker.answerNext("{\"rsc\":2000,\"rvi\":\"3\",\"pc\":{\"m2m:cb\":{\"ri\":\"cb0\"}}}").path("rqi").asText());
                }
                assertThat(asked).hasSize(10);
                for (int i = 0; i < 10; i++) {
                    HttpResponse<String> http = pending.get(i).get(10, TimeUnit.SECONDS);
                    assertThat(http.statusCode()).isEqualTo(200);
                    assertThat(http.headers().firstValue("X-M2M-RI")).as("request h" + i).hasValue("h" + i);
                }
            }
        }
    }

    private static double carried(RunningGateway gateway) throws Exception {
        return Metrics.sum(gateway.metrics(), "onem2m_requests_total", "direction=\"mqtt_to_http\"");
    }
}
