package org.iotgateway.onem2m;

import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The application side: HTTP requests to the gateway's TS-0009 binding reach a CSE that is on the broker only (an MQTT
 * responder here, answering as an MQTT-bound CSE does), and its responses come back as HTTP responses.
 */
class HttpToMqttTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CSE = "in-cse-" + System.nanoTime();
    private static RunningGateway gateway;
    private static MqttBoundCse mqttCse;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        int port = RunningGateway.freeTcpPort();
        gateway = RunningGateway.startOnly("onem2m", Map.of("onem2m.enabled", "true", "onem2m.mqtt-cse-id", CSE,
                "onem2m.http-port", Integer.toString(port), "onem2m.mqtt-timeout-millis", "1500",
                "onem2m.mqtt-to-http-enabled", "false"));
        gateway.awaitMqttReady("onem2mMqtt");
        mqttCse = new MqttBoundCse(gateway.property("onem2m.mqtt-url"), CSE);
    }

    @AfterAll
    static void stop() throws Exception {
        if (mqttCse != null) {
            mqttCse.close();
        }
        if (gateway != null) {
            gateway.close();
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder http(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.property("onem2m.http-port") + path))
                .timeout(java.time.Duration.ofSeconds(10));
    }

    @Test
    void should_carry_an_http_create_to_the_cse_on_the_broker_and_return_its_response() throws Exception {
        var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return send(http("/~/" + CSE + "/cse-base").header("X-M2M-Origin", "Capp1").header("X-M2M-RI", "h-create")
                        .header("X-M2M-RVI", "3").header("Content-Type", "application/json;ty=2")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"m2m:ae\":{\"rn\":\"app1\",\"api\":\"Napp\",\"rr\":false}}")));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode request = mqttCse.answerNext("{\"rsc\":2001,\"rvi\":\"3\",\"pc\":{\"m2m:ae\":{\"rn\":\"app1\",\"ri\":\"ae7\",\"aei\":\"Capp1\"}}}");
        assertThat(request.path("op").asInt()).isEqualTo(1);
        assertThat(request.path("ty").asInt()).isEqualTo(2);
        assertThat(request.path("to").asText()).isEqualTo("/" + CSE + "/cse-base");
        assertThat(request.path("fr").asText()).isEqualTo("Capp1");
        assertThat(request.path("rqi").asText()).isEqualTo("h-create");
        assertThat(request.path("rvi").asText()).isEqualTo("3");
        assertThat(request.path("pc").toString()).isEqualTo("{\"m2m:ae\":{\"rn\":\"app1\",\"api\":\"Napp\",\"rr\":false}}");
        HttpResponse<String> response = pending.get(10, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(response.headers().firstValue("X-M2M-RSC")).hasValue("2001");
        assertThat(response.headers().firstValue("X-M2M-RI")).hasValue("h-create");
        assertThat(response.headers().firstValue("Content-Location")).hasValue("ae7");
        assertThat(response.headers().firstValue("X-M2M-Origin")).isEmpty();
        assertThat(JSON.readTree(response.body()).path("m2m:ae").path("aei").asText()).isEqualTo("Capp1");
    }

    @Test
    void should_take_and_give_cbor_bodies_when_the_application_sends_and_accepts_cbor() throws Exception {
        ObjectMapper cbor = new ObjectMapper(new CBORFactory());
        byte[] body = cbor.writeValueAsBytes(JSON.readTree("{\"m2m:cin\":{\"cnf\":\"text/plain:0\",\"con\":\"21.5\"}}"));
        var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return HTTP.send(http("/cse-base/app1/data").header("X-M2M-Origin", "Capp1").header("X-M2M-RI", "h-cbor")
                        .header("Content-Type", "application/cbor;ty=4").header("Accept", "application/cbor")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode request = mqttCse.answerNext("{\"rsc\":2001,\"pc\":{\"m2m:cin\":{\"ri\":\"cin5\",\"con\":\"21.5\"}}}");
        assertThat(request.path("ty").asInt()).isEqualTo(4);
        assertThat(request.path("pc").path("m2m:cin").path("con").asText()).isEqualTo("21.5");
        HttpResponse<byte[]> response = pending.get(10, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/cbor");
        assertThat(cbor.readTree(response.body()).path("m2m:cin").path("ri").asText()).isEqualTo("cin5");

        HttpResponse<String> xml = send(http("/cse-base").header("X-M2M-Origin", "Capp1").header("X-M2M-RI", "h-xml")
                .header("Content-Type", "application/xml;ty=3").POST(HttpRequest.BodyPublishers.ofString("<m2m:cnt/>")));
        assertThat(xml.statusCode()).isEqualTo(415);
        assertThat(xml.headers().firstValue("X-M2M-RI")).hasValue("h-xml");
        assertThat(xml.headers().firstValue("Content-Type")).hasValue("application/xml");
        assertThat(xml.body()).as("refused in the serialization it was sent in").isEqualTo("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                + "<m2m:dbg xmlns:m2m=\"http://www.onem2m.org/xml/protocols\">Content-Type application/xml;ty=3 is not supported:"
                + " send JSON or CBOR</m2m:dbg>");
    }

    @Test
    void should_map_retrieve_with_discovery_and_an_error_status() throws Exception {
        var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return send(http("/cse-base/app1?fu=1&ty=3+4&rcn=1").header("X-M2M-Origin", "Capp1").header("X-M2M-RI", "h-find").GET());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode request = mqttCse.answerNext("{\"rsc\":4004,\"pc\":{\"m2m:dbg\":\"resource does not exist\"}}");
        assertThat(request.path("op").asInt()).isEqualTo(2);
        assertThat(request.path("to").asText()).isEqualTo("cse-base/app1");
        assertThat(request.path("rcn").asInt()).isEqualTo(1);
        assertThat(request.path("fc").toString()).isEqualTo("{\"fu\":1,\"ty\":[3,4]}");
        HttpResponse<String> response = pending.get(10, TimeUnit.SECONDS);
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.headers().firstValue("X-M2M-RSC")).hasValue("4004");
        assertThat(response.body()).isEqualTo("{\"m2m:dbg\":\"resource does not exist\"}");
    }

    @Test
    void should_send_list_typed_filter_criteria_as_lists_even_with_one_value() throws Exception {
        var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return send(http("/cse-base?fu=1&ty=4&lbl=probe&lim=5").header("X-M2M-Origin", "Capp1").header("X-M2M-RI", "h-one")
                        .header("X-M2M-RVI", "3").GET());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode request = mqttCse.answerNext("{\"rsc\":2000,\"pc\":{\"m2m:uril\":[\"cse-base/app1/data/cin1\"]}}");
        assertThat(request.path("fc").toString()).isEqualTo("{\"fu\":1,\"ty\":[4],\"lbl\":[\"probe\"],\"lim\":5}");
        assertThat(pending.get(10, TimeUnit.SECONDS).statusCode()).as("the strict CSE took it").isEqualTo(200);

        pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return send(http("/cse-base?fu=1&lbl=a&lbl=b+c&cty=text%2Fplain").header("X-M2M-Origin", "Capp1")
                        .header("X-M2M-RI", "h-repeated").GET());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        request = mqttCse.answerNext("{\"rsc\":2000,\"pc\":{\"m2m:uril\":[]}}");
        assertThat(request.path("fc").toString()).isEqualTo("{\"fu\":1,\"lbl\":[\"a\",\"b\",\"c\"],\"cty\":[\"text/plain\"]}");
        assertThat(pending.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }

    @Test
    void should_give_the_ts_0009_http_status_of_each_cse_answer() throws Exception {
        for (int[] row : new int[][] {{4008, 504}, {4001, 501}, {4117, 403}, {4124, 409}, {2002, 200}}) {
            var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return send(http("/cse-base").header("X-M2M-Origin", "Capp1").header("X-M2M-RI", "h-" + row[0]).GET());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            mqttCse.answerNext("{\"rsc\":" + row[0] + "}");
            HttpResponse<String> response = pending.get(10, TimeUnit.SECONDS);
            assertThat(response.statusCode()).as("rsc " + row[0]).isEqualTo(row[1]);
            assertThat(response.headers().firstValue("X-M2M-RSC")).hasValue(Integer.toString(row[0]));
        }
    }

    @Test
    void should_echo_the_request_id_on_its_own_error_answers_with_header_names_in_their_canonical_case() throws Exception {
        String noOrigin = rawExchange("GET /cse-base HTTP/1.1\r\nHost: gw\r\nX-M2M-RI: h-no-origin\r\nConnection: close\r\n\r\n");
        assertThat(noOrigin).startsWith("HTTP/1.1 400").contains("\r\nX-M2M-RSC: 4000\r\n", "\r\nX-M2M-RI: h-no-origin\r\n");

        String body = "{\"m2m:cnt\":";
        String malformed = rawExchange("POST /cse-base HTTP/1.1\r\nHost: gw\r\nX-M2M-Origin: Capp1\r\nX-M2M-RI: h-malformed\r\n"
                + "Content-Type: application/json;ty=3\r\nContent-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body);
        assertThat(malformed).startsWith("HTTP/1.1 400").contains("\r\nX-M2M-RSC: 4000\r\n", "\r\nX-M2M-RI: h-malformed\r\n",
                "malformed JSON");
    }

    /** A request written on a socket as is, and the whole answer as it came (header names as the gateway wrote them). */
    private static String rawExchange(String request) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", Integer.parseInt(gateway.property("onem2m.http-port")))) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void should_answer_5103_when_the_cse_on_the_broker_does_not_respond_and_4000_without_an_originator() throws Exception {
        HttpResponse<String> late = send(http("/cse-base").header("X-M2M-Origin", "Capp1").header("X-M2M-RI", "h-late").GET());
        mqttCse.requests.poll(5, TimeUnit.SECONDS);
        assertThat(late.statusCode()).isEqualTo(404);
        assertThat(late.headers().firstValue("X-M2M-RSC")).hasValue("5103");
        assertThat(late.body()).contains("no response from " + CSE + " over MQTT within 1500 ms");

        HttpResponse<String> anonymous = send(http("/cse-base").GET());
        assertThat(anonymous.statusCode()).isEqualTo(400);
        assertThat(anonymous.headers().firstValue("X-M2M-RSC")).hasValue("4000");
        assertThat(anonymous.body()).isEqualTo("{\"m2m:dbg\":\"X-M2M-Origin and X-M2M-RI are required\"}");
        assertThat(gateway.metrics()).contains("onem2m_timeouts_total{direction=\"http_to_mqtt\"} 1.0");
    }
}
