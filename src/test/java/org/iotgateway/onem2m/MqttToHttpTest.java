package org.iotgateway.onem2m;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.MqttTestClient.Received;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CSE side of the binding against the stub CSE on HTTP and the real broker: an AE publishes request primitives as
 * OpenMTC's MQTT client does (shapes from shared/reference/vectors/openmtc-pairs.json) and reads the responses.
 */
class MqttToHttpTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CSE = "mn-cse-" + System.nanoTime();
    private static StubCse cse;
    private static RunningGateway gateway;
    private static MqttTestClient ae;
    private static BlockingQueue<Received> responses;

    @BeforeAll
    static void start() throws Exception {
        cse = new StubCse(RunningGateway.freeTcpPort());
        Map<String, String> settings = new HashMap<>(Map.of("onem2m.enabled", "true", "onem2m.cse-id", CSE,
                "onem2m.cse-url", cse.url(), "onem2m.http-timeout-millis", "1000"));
        gateway = RunningGateway.startOnly("onem2m", settings);
        gateway.awaitMqttReady("onem2mMqtt");
        ae = new MqttTestClient(gateway.property("onem2m.mqtt-url"));
        responses = ae.subscribe("/oneM2M/resp/CAE1/#");
    }

    @AfterAll
    static void stop() throws Exception {
        if (ae != null) {
            ae.close();
        }
        if (gateway != null) {
            gateway.close();
        }
        if (cse != null) {
            cse.close();
        }
    }

    /** Publishes a request on /oneM2M/req/CAE1/<cse>/<serialization> and returns the response primitive. */
    private static JsonNode ask(String serialization, String request) throws Exception {
        ae.publish("/oneM2M/req/CAE1/" + CSE + "/" + serialization, request.getBytes(StandardCharsets.UTF_8), 1, false);
        Received response = responses.poll(15, TimeUnit.SECONDS);
        assertThat(response).as("response to " + request).isNotNull();
        assertThat(response.topic()).isEqualTo("/oneM2M/resp/CAE1/" + CSE + "/" + serialization);
        return JSON.readTree(response.text());
    }

    private static JsonNode ask(String request) throws Exception {
        return ask("json", request);
    }

    private static StubCse.Received lastCall() {
        return cse.received.get(cse.received.size() - 1);
    }

    @Test
    void should_carry_create_retrieve_update_discover_and_delete_to_the_cse_and_answer() throws Exception {
        JsonNode created = ask("{\"op\":1,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"t3-create-ae\",\"ty\":2,\"rvi\":\"3\","
                + "\"pc\":{\"m2m:ae\":{\"rn\":\"myAE\",\"api\":\"Nmy.app\",\"rr\":true,\"poa\":[\"mqtt://127.0.0.1:1883\"]}}}");
        assertThat(created.path("rsc").asInt()).isEqualTo(2001);
        assertThat(created.path("rqi").asText()).isEqualTo("t3-create-ae");
        assertThat(created.path("rvi").asText()).isEqualTo("3");
        assertThat(created.path("to").asText()).isEqualTo("CAE1");
        assertThat(created.path("fr").asText()).as("the receiver's ID, the CSE-ID").isEqualTo("/" + CSE);
        assertThat(created.path("ot").asText()).matches("\\d{8}T\\d{6}");
        assertThat(created.path("pc").path("m2m:ae").path("aei").asText()).isEqualTo("CmyAE");
        StubCse.Received call = lastCall();
        assertThat(call.method()).isEqualTo("POST");
        assertThat(call.pathAndQuery()).isEqualTo("/onem2m");
        assertThat(call.contentType()).isEqualTo("application/json;ty=2");
        assertThat(call.origin()).isEqualTo("CAE1");
        assertThat(call.requestId()).isEqualTo("t3-create-ae");
        assertThat(JSON.readTree(call.body())).isEqualTo(JSON.readTree(
                "{\"m2m:ae\":{\"rn\":\"myAE\",\"api\":\"Nmy.app\",\"rr\":true,\"poa\":[\"mqtt://127.0.0.1:1883\"]}}"));

        assertThat(ask("{\"op\":1,\"to\":\"onem2m/myAE\",\"fr\":\"CAE1\",\"rqi\":\"t4-create-cnt\",\"ty\":3,\"pc\":{\"m2m:cnt\":{\"rn\":\"data\"}}}")
                .path("rsc").asInt()).isEqualTo(2001);
        assertThat(ask("{\"op\":1,\"to\":\"onem2m/myAE/data\",\"fr\":\"CAE1\",\"rqi\":\"t5-create-cin\",\"ty\":4,"
                + "\"pc\":{\"m2m:cin\":{\"cnf\":\"text/plain:0\",\"con\":\"21.5\"}}}").path("rsc").asInt()).isEqualTo(2001);
        assertThat(lastCall().contentType()).isEqualTo("application/json;ty=4");

        JsonNode retrieved = ask("{\"op\":2,\"to\":\"/mn-cse-1/onem2m\",\"fr\":\"CAE1\",\"rqi\":\"t2-retrieve-cb-sprel\"}");
        assertThat(retrieved.path("rsc").asInt()).isEqualTo(2000);
        assertThat(retrieved.path("pc").path("m2m:cb").path("csi").asText()).isEqualTo("/mn-cse-1");
        assertThat(lastCall().method()).isEqualTo("GET");
        assertThat(lastCall().pathAndQuery()).isEqualTo("/~/mn-cse-1/onem2m");

        JsonNode updated = ask("{\"op\":3,\"to\":\"onem2m/myAE\",\"fr\":\"CAE1\",\"rqi\":\"t8-update-ae\",\"pc\":{\"m2m:ae\":{\"lbl\":[\"a\",\"b\"]}}}");
        assertThat(updated.path("rsc").asInt()).isEqualTo(2004);
        assertThat(updated.path("pc").path("m2m:ae").path("lbl").toString()).isEqualTo("[\"a\",\"b\"]");
        assertThat(lastCall().method()).isEqualTo("PUT");
        assertThat(lastCall().contentType()).isEqualTo("application/json");

        JsonNode discovered = ask("{\"op\":2,\"to\":\"onem2m/myAE\",\"fr\":\"CAE1\",\"rqi\":\"t9-discover\",\"fc\":{\"fu\":1,\"ty\":[3,4]},\"rcn\":1}");
        assertThat(discovered.path("pc").path("m2m:uril").toString()).startsWith("[\"/mn-cse-1/onem2m/myAE/data\",");
        assertThat(lastCall().pathAndQuery()).isEqualTo("/onem2m/myAE?rcn=1&fu=1&ty=3+4");

        assertThat(ask("{\"op\":4,\"to\":\"onem2m/myAE/data\",\"fr\":\"CAE1\",\"rqi\":\"t13-delete\"}").path("rsc").asInt()).isEqualTo(2002);
        assertThat(lastCall().method()).isEqualTo("DELETE");
    }

    @Test
    void should_always_answer_with_the_status_code_of_what_went_wrong() throws Exception {
        JsonNode notFound = ask("{\"op\":2,\"to\":\"onem2m/doesnotexist\",\"fr\":\"CAE1\",\"rqi\":\"t7-notfound\"}");
        assertThat(notFound.path("rsc").asInt()).isEqualTo(4004);
        assertThat(notFound.path("pc").path("m2m:dbg").asText()).isEqualTo("resource does not exist");

        JsonNode malformed = ask("this is not json");
        assertThat(malformed.path("rsc").asInt()).isEqualTo(4000);
        assertThat(malformed.path("pc").path("m2m:dbg").asText()).startsWith("malformed JSON: ");

        JsonNode notAnObject = ask("[1, 2]");
        assertThat(notAnObject.path("rsc").asInt()).isEqualTo(4000);
        assertThat(notAnObject.path("pc").path("m2m:dbg").asText()).isEqualTo("the request primitive is not an object (a map of short names)");

        JsonNode unknownOperation = ask("{\"op\":9,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"t-op9\"}");
        assertThat(unknownOperation.path("rsc").asInt()).isEqualTo(4000);
        assertThat(unknownOperation.path("rqi").asText()).isEqualTo("t-op9");
        assertThat(unknownOperation.path("pc").path("m2m:dbg").asText()).isEqualTo("unknown operation op=9");

        JsonNode missing = ask("{\"op\":2,\"to\":\"onem2m\",\"rqi\":\"t-nofr\"}");
        assertThat(missing.path("rsc").asInt()).isEqualTo(4000);
        assertThat(missing.path("pc").path("m2m:dbg").asText()).isEqualTo("the request primitive lacks fr");

        JsonNode expired = ask("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"t-expired\",\"rqet\":\"20200101T000000\"}");
        assertThat(expired.path("rsc").asInt()).isEqualTo(4008);
        assertThat(expired.path("pc").path("m2m:dbg").asText()).isEqualTo("the request expired at 20200101T000000 (rqet)");

        JsonNode late = ask("{\"op\":2,\"to\":\"onem2m/slow\",\"fr\":\"CAE1\",\"rqi\":\"t-slow\"}");
        assertThat(late.path("rsc").asInt()).isEqualTo(5103);
        assertThat(late.path("pc").path("m2m:dbg").asText()).isEqualTo("the CSE at " + cse.url() + " did not answer within 1000 ms");

        ae.publish("/oneM2M/req/CAE1/" + CSE + "/xml", ("<?xml version=\"1.0\"?><m2m:rqp xmlns:m2m=\"http://www.onem2m.org/xml/protocols\">"
                + "<op>2</op><to>onem2m</to><fr>CAE1</fr><rqi>t-xml</rqi><rvi>3</rvi></m2m:rqp>").getBytes(StandardCharsets.UTF_8), 1, false);
        Received xml = responses.poll(15, TimeUnit.SECONDS);
        assertThat(xml.topic()).isEqualTo("/oneM2M/resp/CAE1/" + CSE + "/xml");
        assertThat(xml.text()).as("answered in XML, which its originator reads").startsWith("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                + "<m2m:rsp xmlns:m2m=\"http://www.onem2m.org/xml/protocols\"><rsc>4015</rsc><rqi>t-xml</rqi><pc><m2m:dbg>XML primitives"
                + " are not supported: this bridge speaks JSON and CBOR</m2m:dbg></pc><to>CAE1</to><fr>/" + CSE + "</fr><ot>")
                .endsWith("</ot><rvi>3</rvi></m2m:rsp>");

        assertThat(gateway.metrics()).contains("onem2m_responses_total{direction=\"mqtt_to_http\",rsc=\"4000\"}",
                "onem2m_timeouts_total{direction=\"mqtt_to_http\"} 1.0");
    }

    @Test
    void should_answer_a_cbor_request_in_cbor_on_the_cbor_response_topic() throws Exception {
        ObjectMapper cbor = new ObjectMapper(new CBORFactory());
        byte[] request = cbor.writeValueAsBytes(JSON.readTree("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"t-cbor\",\"rvi\":\"3\"}"));
        ae.publish("/oneM2M/req/CAE1/" + CSE + "/cbor", request, 1, false);
        Received response = responses.poll(15, TimeUnit.SECONDS);
        assertThat(response).isNotNull();
        assertThat(response.topic()).isEqualTo("/oneM2M/resp/CAE1/" + CSE + "/cbor");
        JsonNode primitive = cbor.readTree(response.payload());
        assertThat(primitive.path("rsc").asInt()).isEqualTo(2000);
        assertThat(primitive.path("rqi").asText()).isEqualTo("t-cbor");
        assertThat(primitive.path("pc").path("m2m:cb").path("csi").asText()).isEqualTo("/mn-cse-1");
        assertThat(lastCall().pathAndQuery()).isEqualTo("/onem2m");

        ae.publish("/oneM2M/req/CAE1/" + CSE + "/cbor", new byte[] {(byte) 0xbf, 0x61}, 1, false);
        JsonNode malformed = cbor.readTree(responses.poll(15, TimeUnit.SECONDS).payload());
        assertThat(malformed.path("rsc").asInt()).isEqualTo(4000);
        assertThat(malformed.path("pc").path("m2m:dbg").asText()).startsWith("malformed CBOR: ");
    }

    @Test
    void should_answer_a_redelivered_request_with_its_response_and_carry_a_new_request_that_reuses_its_rqi() throws Exception {
        String request = "{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"t-twice\"}";
        JsonNode first = ask(request);
        assertThat(first.path("rsc").asInt()).isEqualTo(2000);
        int calls = cse.received.size();

        JsonNode again = ask(request);
        assertThat(again).as("the response already given, not a second call").isEqualTo(first);
        assertThat(cse.received).hasSize(calls);

        JsonNode reused = ask("{\"op\":2,\"to\":\"onem2m/doesnotexist\",\"fr\":\"CAE1\",\"rqi\":\"t-twice\"}");
        assertThat(reused.path("rsc").asInt()).as("another request under the same rqi is carried").isEqualTo(4004);
        assertThat(cse.received).hasSize(calls + 1);
    }

    @Test
    void should_refuse_each_request_whose_rqi_is_a_map_rather_than_take_the_second_for_a_redelivery() throws Exception {
        String request = "{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":{}}";
        for (int attempt = 0; attempt < 2; attempt++) {
            ae.publish("/oneM2M/req/CAE1/" + CSE + "/json", request.getBytes(StandardCharsets.UTF_8), 1, false);
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            JsonNode response = JSON.readTree(responses.poll(15, TimeUnit.SECONDS).text());
            assertThat(response.path("rsc").asInt()).isEqualTo(4000);
            assertThat(response.path("pc").path("m2m:dbg").asText()).isEqualTo("the request primitive's rqi is a map, not a single value");
        }
    }

    @Test
    void should_answer_mutated_and_hostile_request_primitives_without_an_internal_error_and_serve_on() throws Exception {
        long seed = Long.getLong("fuzz.seed", System.nanoTime());
        java.util.Random random = new java.util.Random(seed);
        String[] valid = {
                "{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"RQI\",\"rvi\":\"3\"}",
                "{\"op\":1,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"RQI\",\"ty\":4,\"pc\":{\"m2m:cin\":{\"con\":\"21\"}}}",
                "{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"RQI\",\"fc\":{\"fu\":1,\"ty\":[4],\"lbl\":[\"a\"]}}",
                "{\"op\":4,\"to\":\"onem2m/x\",\"fr\":\"CAE1\",\"rqi\":\"RQI\"}"};
        String[] hostile = {"[".repeat(100_000), "{\"op\":" + "9".repeat(5_000) + "}", "{\"to\":5,\"op\":\"x\",\"fr\":[],\"rqi\":{}}",
                "{\"op\":1,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"RQI\",\"pc\":\"" + "x".repeat(200_000) + "\"}", "null", ""};
        int requests = 300;
        try {
            fuzz(seed, random, valid, hostile, requests);
        } finally {
            // what came for the AE during the run is not for the tests that follow
            TimeUnit.MILLISECONDS.sleep(300);
            responses.clear();
        }
        assertThat(ask("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"after-fuzz-" + seed + "\"}").path("rqi").asText())
                .isEqualTo("after-fuzz-" + seed);
    }

    /** A request under an rqi of the run (fz-…) that an earlier one already was, byte for byte; else it is noted. */
    private static boolean isCopyOfOneSent(String topic, byte[] request, java.util.Set<String> sentRequests) {
        String text = new String(request, StandardCharsets.UTF_8);
        return text.contains("fz-") && !sentRequests.add(topic + " " + text);
    }

    private void fuzz(long seed, java.util.Random random, String[] valid, String[] hostile, int requests) throws Exception {
        // a mutation may change the originator the response goes to: every response topic is watched, by a client of its
        // own (the broker would give the AE's client each CAE1 response once per matching subscription)
        MqttTestClient watcher = new MqttTestClient(gateway.property("onem2m.mqtt-url"));
        BlockingQueue<Received> anyResponse = watcher.subscribe("/oneM2M/resp/#");
        java.util.Map<Integer, Integer> rscs = new java.util.TreeMap<>();
        int unanswered = 0;
        // a flip in one request's rqi can make it another's, byte for byte: that is a redelivery, answered once while the
        // first is under way (should_answer_a_redelivered_request...), so such a copy is drawn again
        java.util.Set<String> sentRequests = new java.util.HashSet<>();
        for (int i = 0; i < requests; i++) {
            String topic;
            byte[] request;
            do {
                String text = (random.nextInt(10) == 0 ? hostile[random.nextInt(hostile.length)] : valid[random.nextInt(valid.length)])
                        .replace("RQI", "fz-" + seed + "-" + i);
                request = text.getBytes(StandardCharsets.UTF_8);
                for (int flips = random.nextInt(3); flips > 0 && request.length > 0; flips--) {
                    request[random.nextInt(request.length)] = (byte) (32 + random.nextInt(95));
                }
                topic = "/oneM2M/req/CAE1/" + CSE + "/" + (random.nextInt(10) == 0 ? "cbor" : "json");
            } while (isCopyOfOneSent(topic, request, sentRequests));
            ae.publish(topic, request, 1, false);
        }
        // answered in any order (the requests run side by side): every one of them, each once
        for (int i = 0; i < requests; i++) {
            Received response = anyResponse.poll(5, TimeUnit.SECONDS);
            if (response == null) {
                unanswered = requests - i;
                break;
            }
            JsonNode primitive = response.topic().endsWith("/cbor") ? new ObjectMapper(new CBORFactory()).readTree(response.payload())
                    : JSON.readTree(response.text());
            rscs.merge(primitive.path("rsc").asInt(), 1, Integer::sum);
        }
        assertThat(anyResponse.poll(500, TimeUnit.MILLISECONDS)).as("a response too many").isNull();
        watcher.close();
        System.out.printf("oneM2M request primitive fuzzing (seed %d): %d requests, responses by rsc %s, %d unanswered%n",
                seed, requests, rscs, unanswered);
        assertThat(rscs).as("internal errors (seed " + seed + ")").doesNotContainKey(5000);
        assertThat(unanswered).as("requests left without a response").isZero();
    }
}
