package org.iotgateway.onem2m;

import java.util.Properties;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.ThreadPoolProfileBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.hc.core5.http.HttpEntity;
import org.iotgateway.mqtt.MqttConstants;
import org.iotgateway.testing.RouteFileTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/onem2m/mqtt-binding.camel.yaml's direction from the broker to HTTP on its own, the broker and the CSE replaced
 * by mocks: the HTTP request a request primitive becomes (camel-http's headers), and the response primitive published
 * for the CSE's answer. MqttToHttpTest and its neighbours run the binding against a real broker, a strict stub CSE and
 * OpenMTC's shapes; copy this one to test an edit of the routes.
 */
class Onem2mRoutesTest extends RouteFileTestSupport {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    protected String routeFile() {
        return "routes/onem2m/mqtt-binding.camel.yaml";
    }

    @Override
    protected Properties useOverridePropertiesWithPropertiesComponent() {
        Properties properties = super.useOverridePropertiesWithPropertiesComponent();
        // the other direction listens on a port and waits for a broker: not part of this test
        properties.setProperty("onem2m.http-to-mqtt-enabled", "false");
        properties.setProperty("onem2m.cse-url", "http://cse.example:8080");
        return properties;
    }

    @Override
    protected void advise() throws Exception {
        context.getExecutorServiceManager().registerThreadPoolProfile(
                new ThreadPoolProfileBuilder("onem2m-requests").poolSize(2).maxPoolSize(2).build());
        AdviceWith.adviceWith(context, "onem2m-mqtt-to-http", route -> route.replaceFromWith("direct:from-broker"));
        AdviceWith.adviceWith(context, "onem2m-request-to-http", route -> {
            route.weaveById("onem2m-http-call").replace().to("mock:cse");
            route.weaveByToUri("mqtt:*").replace().to("mock:broker");
        });
    }

    @Test
    void should_send_the_ts0009_request_and_publish_the_cses_answer_as_the_response_primitive() throws Exception {
        MockEndpoint cse = getMockEndpoint("mock:cse");
        cse.whenAnyExchangeReceived(call -> {
            call.getMessage().setHeader(Exchange.HTTP_RESPONSE_CODE, 201);
            call.getMessage().setHeader("X-M2M-RSC", "2001");
            call.getMessage().setBody("{\"m2m:cin\":{\"con\":\"21.5\"}}".getBytes());
        });
        cse.expectedHeaderReceived(Exchange.HTTP_METHOD, "POST");
        cse.expectedHeaderReceived(Exchange.HTTP_URI, "http://cse.example:8080/onem2m/myAE/data");
        cse.expectedHeaderReceived("X-M2M-Origin", "CAE1");
        cse.expectedHeaderReceived("X-M2M-RI", "rq-1");
        MockEndpoint broker = getMockEndpoint("mock:broker");
        broker.expectedMessageCount(1);
        broker.expectedHeaderReceived(MqttConstants.TOPIC, "/oneM2M/resp/CAE1/mn-cse-1/json");

        template.sendBodyAndHeader("direct:from-broker", ("{\"op\":1,\"to\":\"onem2m/myAE/data\",\"fr\":\"CAE1\",\"rqi\":\"rq-1\","
                + "\"ty\":4,\"pc\":{\"m2m:cin\":{\"con\":\"21.5\"}}}").getBytes(), MqttConstants.TOPIC, "/oneM2M/req/CAE1/mn-cse-1/json");

        cse.assertIsSatisfied();
        broker.assertIsSatisfied();
        Message call = cse.getExchanges().get(0).getMessage();
        assertThat(call.getHeaders()).as("nothing of the MQTT message goes along").doesNotContainKey(MqttConstants.TOPIC);
        HttpEntity content = call.getBody(HttpEntity.class);
        assertThat(content.getContentType()).as("as TS-0009 writes it").isEqualTo("application/json;ty=4");
        assertThat(JSON.readTree(content.getContent())).isEqualTo(JSON.readTree("{\"m2m:cin\":{\"con\":\"21.5\"}}"));
        JsonNode response = JSON.readTree(broker.getExchanges().get(0).getMessage().getBody(byte[].class));
        assertThat(response.path("rsc").asInt()).isEqualTo(2001);
        assertThat(response.path("rqi").asText()).isEqualTo("rq-1");
        assertThat(response.path("to").asText()).isEqualTo("CAE1");
        assertThat(response.path("pc").path("m2m:cin").path("con").asText()).isEqualTo("21.5");
    }

    @Test
    void should_answer_a_request_without_an_rqi_with_4000_and_call_nobody() throws Exception {
        MockEndpoint cse = getMockEndpoint("mock:cse");
        cse.expectedMessageCount(0);
        MockEndpoint broker = getMockEndpoint("mock:broker");
        broker.expectedMessageCount(1);

        template.sendBodyAndHeader("direct:from-broker", "{\"op\":2,\"to\":\"onem2m\",\"fr\":\"CAE1\"}".getBytes(),
                MqttConstants.TOPIC, "/oneM2M/req/CAE1/mn-cse-1/json");

        broker.assertIsSatisfied();
        cse.assertIsSatisfied();
        JsonNode response = JSON.readTree(broker.getExchanges().get(0).getMessage().getBody(byte[].class));
        assertThat(response.path("rsc").asInt()).isEqualTo(4000);
        assertThat(response.path("pc").path("m2m:dbg").asText()).isEqualTo("the request primitive lacks rqi");
    }
}
