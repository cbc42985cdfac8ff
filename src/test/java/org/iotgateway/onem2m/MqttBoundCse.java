package org.iotgateway.onem2m;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.MqttTestClient.Received;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A CSE that is on the broker only, answering as an MQTT-bound CSE does: it reads the request primitives published to
 * {@code /oneM2M/req/+/<cse-id>/json} and publishes the response a test gives on the matching response topic.
 */
final class MqttBoundCse implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    final MqttTestClient client;
    final BlockingQueue<Received> requests;

    MqttBoundCse(String brokerUrl, String cseId) throws Exception {
        client = new MqttTestClient(brokerUrl);
        requests = client.subscribe("/oneM2M/req/+/" + cseId + "/json");
    }

    /**
     * Answers the next request with {@code responseWithoutRqi} (the request's rqi copied in); returns the request. A
     * request a real CSE refuses is answered as it does, 4000 and the reason: list-typed filter criteria (TS-0004
     * m2m:filterCriteria) that are not lists, a release version (rvi) that is not one of the release strings.
     */
    JsonNode answerNext(String responseWithoutRqi) throws Exception {
        Received received = requests.poll(10, TimeUnit.SECONDS);
        assertThat(received).as("a request primitive on the broker").isNotNull();
        JsonNode request = JSON.readTree(received.text());
        String refusal = refusal(request);
        String response = (refusal == null ? responseWithoutRqi : "{\"rsc\":4000,\"pc\":{\"m2m:dbg\":\"" + refusal + "\"}}")
                .replaceFirst("\\{", "{\"rqi\":\"" + request.get("rqi").asText() + "\",");
        client.publish(received.topic().replace("/req/", "/resp/"), response.getBytes(StandardCharsets.UTF_8), 1, false);
        return request;
    }

    private static String refusal(JsonNode request) {
        for (String listTyped : List.of("ty", "lbl", "cty", "clbl", "plbl", "chty", "pty")) {
            JsonNode value = request.path("fc").get(listTyped);
            if (value != null && !value.isArray()) {
                return "fc." + listTyped + " must be a list";
            }
        }
        JsonNode rvi = request.get("rvi");
        if (rvi != null && !(rvi.isTextual() && List.of("1", "2", "2a", "3", "4", "5").contains(rvi.asText()))) {
            return "rvi " + rvi + " is not a release version";
        }
        return null;
    }

    @Override
    public void close() throws Exception {
        client.close();
    }
}
