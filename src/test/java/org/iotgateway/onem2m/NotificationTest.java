package org.iotgateway.onem2m;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.iotgateway.testing.MqttTestClient.Received;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Notifications from a CSE on the broker (an MQTT client here, publishing as an MQTT-bound CSE does) to AEs that use
 * HTTP: configured ones, and one that registers through the gateway's HTTP binding; the AE is a stub on HTTP.
 */
class NotificationTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CSE = "in-cse-" + System.nanoTime();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String NOTIFICATION = "{\"m2m:sgn\":{\"nev\":{\"rep\":{\"m2m:cin\":{\"con\":\"21.5\"}},\"net\":3},"
            + "\"sur\":\"/" + "in-cse/sub1\"}}";
    private static StubAe ae;
    private static int downPort;
    private static RunningGateway gateway;
    private static MqttBoundCse mqttCse;
    private static BlockingQueue<Received> responses;

    @BeforeAll
    static void start() throws Exception {
        ae = new StubAe(RunningGateway.freeTcpPort());
        downPort = RunningGateway.freeTcpPort();
        gateway = RunningGateway.startOnly("onem2m", Map.of("onem2m.enabled", "true", "onem2m.mqtt-cse-id", CSE,
                "onem2m.mqtt-to-http-enabled", "false", "onem2m.http-timeout-millis", "1000",
                "onem2m.http-aes", "Cconfigured=" + ae.url() + "/notify?app=1, Cdown=http://127.0.0.1:" + downPort + "/n, Cbare=" + ae.url()));
        gateway.awaitMqttReady("onem2mMqtt");
        mqttCse = new MqttBoundCse(gateway.property("onem2m.mqtt-url"), CSE);
        responses = mqttCse.client.subscribe("/oneM2M/resp/" + CSE + "/#");
    }

    @AfterAll
    static void stop() throws Exception {
        if (mqttCse != null) {
            mqttCse.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (ae != null) {
            ae.close();
        }
    }

    /** Publishes a request of the CSE for {@code aeId}; returns the response primitive, or null after {@code waitMillis}. */
    private static JsonNode notify(String aeId, String request, long waitMillis) throws Exception {
        mqttCse.client.publish("/oneM2M/req/" + CSE + "/" + aeId + "/json", request.getBytes(StandardCharsets.UTF_8), 1, false);
        Received response = responses.poll(waitMillis, TimeUnit.MILLISECONDS);
        if (response == null) {
            return null;
        }
        assertThat(response.topic()).isEqualTo("/oneM2M/resp/" + CSE + "/" + aeId + "/json");
        return JSON.readTree(response.text());
    }

    private static String notification(String aeId, String rqi) {
        return "{\"op\":5,\"to\":\"" + aeId + "\",\"fr\":\"/" + CSE + "\",\"rqi\":\"" + rqi + "\",\"rvi\":\"3\",\"pc\":" + NOTIFICATION + "}";
    }

    @Test
    void should_post_a_notification_for_a_configured_http_ae_to_its_point_of_access_and_publish_its_answer() throws Exception {
        JsonNode response = notify("Cconfigured", notification("Cconfigured", "n-configured"), 10_000);
        assertThat(response).isNotNull();
        assertThat(response.path("rsc").asInt()).isEqualTo(2000);
        assertThat(response.path("rqi").asText()).isEqualTo("n-configured");
        assertThat(response.path("to").asText()).isEqualTo("/" + CSE);
        assertThat(response.path("rvi").asText()).isEqualTo("3");

        StubCse.Received delivered = ae.received.poll(5, TimeUnit.SECONDS);
        assertThat(delivered).isNotNull();
        assertThat(delivered.method()).isEqualTo("POST");
        assertThat(delivered.pathAndQuery()).isEqualTo("/notify?app=1");
        assertThat(delivered.contentType()).isEqualTo("application/json");
        assertThat(delivered.origin()).isEqualTo("/" + CSE);
        assertThat(delivered.requestId()).isEqualTo("n-configured");
        assertThat(JSON.readTree(delivered.body())).isEqualTo(JSON.readTree(NOTIFICATION));
    }

    @Test
    void should_answer_4005_for_other_operations_and_5103_when_the_ae_is_unreachable() throws Exception {
        JsonNode retrieve = notify("Cconfigured", "{\"op\":2,\"to\":\"Cconfigured\",\"fr\":\"/" + CSE + "\",\"rqi\":\"n-get\"}", 10_000);
        assertThat(retrieve.path("rsc").asInt()).isEqualTo(4005);
        assertThat(retrieve.path("pc").path("m2m:dbg").asText())
                .isEqualTo("only NOTIFY is carried to the AE Cconfigured (its point of access is HTTP)");

        JsonNode unreachable = notify("Cdown", notification("Cdown", "n-down"), 10_000);
        assertThat(unreachable.path("rsc").asInt()).isEqualTo(5103);
        assertThat(unreachable.path("pc").path("m2m:dbg").asText())
                .isEqualTo("the AE Cdown at http://127.0.0.1:" + downPort + "/n is unreachable");
    }

    @Test
    void should_learn_an_ae_that_registers_over_http_and_forget_it_when_it_is_deleted() throws Exception {
        CompletableFuture<HttpResponse<String>> registration = HTTP.sendAsync(gateway("/~/" + CSE + "/cse-base")
                .header("X-M2M-Origin", "Clearned").header("X-M2M-RI", "h-register").header("Content-Type", "application/json;ty=2")
                .POST(HttpRequest.BodyPublishers.ofString("{\"m2m:ae\":{\"rn\":\"learned\",\"api\":\"Napp\",\"rr\":true,"
                        + "\"poa\":[\"mqtt://broker\",\"" + ae.url() + "/learned\"]}}")).build(), HttpResponse.BodyHandlers.ofString());
        mqttCse.answerNext("{\"rsc\":2001,\"pc\":{\"m2m:ae\":{\"rn\":\"learned\",\"ri\":\"ae9\",\"aei\":\"Clearned\"}}}");
        assertThat(registration.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(201);

        // answered once the broker has granted the subscription for Clearned: a notification right after is carried
        JsonNode response = notify("Clearned", notification("Clearned", "n-learned"), 10_000);
        assertThat(response.path("rsc").asInt()).isEqualTo(2000);
        StubCse.Received delivered = ae.received.poll(5, TimeUnit.SECONDS);
        assertThat(delivered.pathAndQuery()).isEqualTo("/learned");
        assertThat(delivered.requestId()).isEqualTo(response.path("rqi").asText());

        // answered as a CSE does by default (rcn 0): 2002 and no content, so only the address names the AE
        CompletableFuture<HttpResponse<String>> deletion = HTTP.sendAsync(gateway("/~/" + CSE + "/cse-base/learned")
                .header("X-M2M-Origin", "Clearned").header("X-M2M-RI", "h-deregister").DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        mqttCse.answerNext("{\"rsc\":2002}");
        assertThat(deletion.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        // forgotten as the deletion is answered; a request still delivered by the old subscription is ignored
        assertThat(gateway.context().getRegistry().lookupByNameAndType("onem2mPointsOfAccess", PointsOfAccess.class).of("Clearned")).isNull();
        ae.received.clear();
        assertThat(notify("Clearned", notification("Clearned", "n-after-delete"), 1500)).isNull();
        assertThat(ae.received).isEmpty();
    }

    @Test
    void should_post_to_the_path_of_the_to_parameter_when_the_point_of_access_names_no_path() throws Exception {
        JsonNode response = notify("Cbare", notification("Cbare", "n-bare"), 10_000);
        assertThat(response.path("rsc").asInt()).isEqualTo(2000);
        StubCse.Received delivered = ae.received.poll(5, TimeUnit.SECONDS);
        assertThat(delivered.pathAndQuery()).as("TS-0009 6.2.2.1: / and the To parameter").isEqualTo("/Cbare");
    }

    private static HttpRequest.Builder gateway(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.property("onem2m.http-port") + path))
                .timeout(Duration.ofSeconds(10));
    }
}
