package org.iotgateway.onem2m;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The TS-0009 mapping both ways, on the captured OpenMTC requests and HTTP answers (shared/reference/vectors): a
 * request primitive → HTTP request → request primitive again, an HTTP answer → response primitive, and the status table.
 */
class HttpBindingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DefaultCamelContext CAMEL = new DefaultCamelContext();

    @AfterAll
    static void close() throws Exception {
        CAMEL.close();
    }

    @Test
    void should_map_the_captured_requests_to_method_path_content_type_and_headers() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        for (JsonNode pair : OneM2mTopicTest.openMtcPairs()) {
            JsonNode request = pair.path("request").path("payload");
            if (!request.has("op")) {
                continue;
            }
            HttpBinding.HttpCall call = HttpBinding.toHttp(request);
            expected.put(request.path("rqi").asText(), call.method() + " " + call.pathAndQuery() + " " + call.headers().get("Content-Type"));
            assertThat(call.headers()).containsEntry("X-M2M-Origin", request.path("fr").asText())
                    .containsEntry("X-M2M-RI", request.path("rqi").asText());
            if (request.has("rvi")) {
                assertThat(call.headers()).containsEntry("X-M2M-RVI", request.path("rvi").asText());
            }
            if (request.has("pc")) {
                assertThat(JSON.readTree(call.body())).isEqualTo(request.path("pc"));
            }
        }
        assertThat(expected).containsEntry("t1-retrieve-cb", "GET /onem2m null")
                .containsEntry("t2-retrieve-cb-sprel", "GET /~/mn-cse-1/onem2m null")
                .containsEntry("t3-create-ae", "POST /onem2m application/json;ty=2")
                .containsEntry("t5-create-cin", "POST /onem2m/myAE/data application/json;ty=4")
                .containsEntry("t10-create-sub", "POST /onem2m/myAE/data application/json;ty=23")
                .containsEntry("t8-update-ae", "PUT /onem2m/myAE application/json")
                .containsEntry("bgcByFSqodmeLNMz", "POST /~/mn-cse-1/CAE1 application/json");
    }

    @Test
    void should_read_back_the_captured_requests_from_their_http_form() throws Exception {
        int compared = 0;
        for (JsonNode pair : OneM2mTopicTest.openMtcPairs()) {
            JsonNode request = pair.path("request").path("payload");
            if (!request.has("op")) {
                continue;
            }
            HttpBinding.HttpCall call = HttpBinding.toHttp(request);
            Message http = new DefaultMessage(CAMEL);
            call.headers().forEach(http::setHeader);
            http.setHeader(Exchange.HTTP_METHOD, call.method());
            String[] pathAndQuery = call.pathAndQuery().split("\\?", 2);
            http.setHeader(Exchange.HTTP_PATH, pathAndQuery[0]);
            http.setHeader(Exchange.HTTP_QUERY, pathAndQuery.length > 1 ? pathAndQuery[1] : null);
            http.setBody(call.body() == null ? null : call.body().getBytes(StandardCharsets.UTF_8));
            ObjectNode readBack = MqttCseClient.requestPrimitive(http);
            assertThat(readBack).as(request.toString()).isEqualTo(request);
            compared++;
        }
        assertThat(compared).isGreaterThan(15);
    }

    @Test
    void should_map_filter_criteria_and_response_options_both_ways() throws Exception {
        JsonNode discovery = JSON.readTree("{\"op\":2,\"to\":\"onem2m/myAE\",\"fr\":\"CAE1\",\"rqi\":\"d1\",\"rcn\":1,"
                + "\"fc\":{\"fu\":1,\"ty\":[3,4],\"lbl\":\"a b\"},\"rt\":{\"rtv\":3,\"nu\":[\"mqtt://a\",\"http://b\"]}}");
        HttpBinding.HttpCall call = HttpBinding.toHttp(discovery);
        assertThat(call.pathAndQuery()).isEqualTo("/onem2m/myAE?rcn=1&rt=3&fu=1&ty=3+4&lbl=a+b");
        assertThat(call.headers()).containsEntry("X-M2M-RTU", "mqtt://a&http://b");
        // found by fuzzing: a criterion name that is no criterion made an invalid URL and an internal error (5000)
        assertThat(HttpBinding.toHttp(JSON.readTree("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"C\",\"rqi\":\"d2\",\"fc\":{\"t{\":4}}"))
                .pathAndQuery()).isEqualTo("/onem2m?t%7B=4");
        assertThat(MqttCseClient.target("/_/openmtc.org/mn-cse-1/onem2m")).isEqualTo("//openmtc.org/mn-cse-1/onem2m");
        assertThat(HttpBinding.path("//openmtc.org/mn-cse-1/onem2m")).isEqualTo("/_/openmtc.org/mn-cse-1/onem2m");
    }

    @Test
    void should_refuse_an_incomplete_request_or_unknown_operation_with_4000() throws Exception {
        assertThatThrownBy(() -> HttpBinding.toHttp(JSON.readTree("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\"}")))
                .hasMessage("the request primitive lacks rqi");
        assertThatThrownBy(() -> HttpBinding.toHttp(JSON.readTree("{\"op\":7,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"x\"}")))
                .hasMessage("unknown operation op=7");
        assertThatThrownBy(() -> HttpBinding.toHttp(JSON.readTree("{\"op\":2,\"to\":\"onem2m\",\"fr\":[],\"rqi\":\"x\"}")))
                .hasMessage("the request primitive's fr is a list, not a single value");
        assertThatThrownBy(() -> HttpBinding.toHttp(JSON.readTree("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":{}}")))
                .hasMessage("the request primitive's rqi is a map, not a single value");
    }

    /** The captured HTTP answers of OpenMTC's gateway: status line, headers, body, separated by "----". */
    @Test
    void should_take_rsc_from_x_m2m_rsc_of_the_captured_answers_not_from_the_status() throws Exception {
        String transcript = Files.readString(Path.of("..", "shared", "reference", "vectors", "openmtc-gateway-http-transcript.txt"));
        JsonNode request = JSON.readTree("{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\",\"rqi\":\"h\"}");
        List<Integer> rscs = new java.util.ArrayList<>();
        for (String answer : transcript.split("----\\s*\\n")) {
            String[] headAndBody = answer.split("\\r?\\n\\r?\\n", 2);
            List<String> lines = headAndBody[0].lines().toList();
            int status = Integer.parseInt(lines.get(0).split(" ")[1]);
            Map<String, List<String>> headers = new LinkedHashMap<>();
            lines.stream().skip(1).map(line -> line.split(":\\s*", 2)).forEach(header -> headers.put(header[0], List.of(header[1])));
            String body = headAndBody.length > 1 ? headAndBody[1].trim() : "";
            JsonNode response = HttpBinding.toResponse(request, "/mn-cse-1", status, headers, body.isEmpty() ? null : JSON.readTree(body));
            assertThat(response.path("rsc").asText()).isEqualTo(headers.get("x-m2m-rsc").get(0));
            rscs.add(response.path("rsc").asInt());
            if (!body.isEmpty()) {
                assertThat(response.path("pc")).isEqualTo(JSON.readTree(body));
            }
        }
        // among them a deletion answered "200 OK" with X-M2M-RSC 2002
        assertThat(rscs).contains(2000, 2001, 4004, 2002);
        assertThat(HttpBinding.toResponse(request, "/mn-cse-1", 201, Map.of(), null).path("rsc").asInt()).isEqualTo(2001);
        assertThat(HttpBinding.toResponse(request, "/mn-cse-1", 404, Map.of("X-M2M-RSC", List.of("None")), null).path("rsc").asInt()).isEqualTo(4004);
    }

    @Test
    void should_answer_the_captured_responses_as_openmtc_did() throws Exception {
        for (JsonNode pair : OneM2mTopicTest.openMtcPairs()) {
            JsonNode request = pair.path("request").path("payload");
            JsonNode captured = pair.path("response").path("payload");
            if (!captured.has("rsc") || !request.has("op")) {
                continue;
            }
            int rsc = captured.path("rsc").asInt();
            JsonNode response = HttpBinding.toResponse(request, "/mn-cse-1", HttpBinding.httpStatus(rsc), Map.of("X-M2M-RSC", List.of(Integer.toString(rsc))),
                    captured.get("pc"));
            assertThat(response.path("rsc").asInt()).isEqualTo(rsc);
            assertThat(response.path("rqi")).isEqualTo(captured.path("rqi"));
            assertThat(response.path("pc")).isEqualTo(captured.path("pc"));
            assertThat(response.path("to").asText()).isEqualTo(request.path("fr").asText());
        }
    }

    /** TS-0009 V3.9.1 table 6.3.2-1, written out here from the specification, every row. */
    @Test
    void should_map_every_response_status_code_of_the_ts_0009_table() {
        int[][] table = {
            {1000, 202}, {1001, 202}, {1002, 202}, {2000, 200}, {2001, 201}, {2002, 200}, {2004, 200},
            {4000, 400}, {4001, 501}, {4004, 404}, {4005, 405}, {4008, 504}, {4015, 415}, {4101, 403}, {4102, 400},
            {4103, 403}, {4104, 409}, {4105, 409}, {4106, 403}, {4107, 403}, {4108, 403}, {4109, 403}, {4110, 400},
            {4111, 403}, {4112, 403}, {4113, 403}, {4114, 403}, {4115, 403}, {4116, 403}, {4117, 403}, {4118, 404},
            {4119, 404}, {4120, 400}, {4121, 404}, {4122, 400}, {4123, 400}, {4124, 409}, {4125, 404}, {4126, 400},
            {4127, 403}, {4128, 403},
            {5000, 500}, {5001, 501}, {5103, 404}, {5105, 403}, {5106, 403}, {5107, 404}, {5203, 403}, {5204, 500},
            {5205, 403}, {5206, 501}, {5207, 406}, {5208, 403}, {5209, 500}, {5210, 500}, {5211, 500}, {5212, 500},
            {5214, 500}, {5215, 500}, {5216, 500}, {5217, 500}, {5218, 500}, {5219, 500}, {5220, 500}, {5221, 500},
            {5222, 500},
            {6003, 404}, {6005, 404}, {6010, 400}, {6020, 500}, {6021, 500}, {6022, 400}, {6023, 400}, {6024, 400},
            {6025, 500}, {6026, 500}, {6028, 400}, {6029, 400},
        };
        for (int[] row : table) {
            assertThat(HttpBinding.httpStatus(row[0])).as("rsc " + row[0]).isEqualTo(row[1]);
        }
        assertThat(HttpBinding.httpStatus(4199)).as("a 4xxx code the table lacks").isEqualTo(400);
        assertThat(HttpBinding.httpStatus(5299)).as("a 5xxx code the table lacks").isEqualTo(500);
        assertThat(HttpBinding.rscFor(200)).isEqualTo(2000);
        assertThat(HttpBinding.rscFor(201)).isEqualTo(2001);
        assertThat(HttpBinding.rscFor(415)).isEqualTo(4015);
        assertThat(HttpBinding.rscFor(504)).isEqualTo(4008);
        assertThat(HttpBinding.rscFor(503)).isEqualTo(5000);
    }
}
