package org.iotgateway.inverter;

import java.util.Map;

import org.apache.camel.builder.AdviceWith;
import org.apache.camel.builder.ThreadPoolProfileBuilder;
import org.apache.camel.component.mock.MockEndpoint;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.iotgateway.testing.RouteFileTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/inverter/modbus-bridge.camel.yaml on its own, its broker and the web API replaced by mocks: what a Modbus
 * request becomes (the query of the camel-http call) and what is published for the API's answer or its failure.
 * InverterBridgeTest runs the whole bridge against a TLS broker checking JWTs and a stub of the web API; copy this one to
 * test an edit of the routes.
 */
class InverterRoutesTest extends RouteFileTestSupport {

    private static final String TIMESTAMP = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z";

    @Override
    protected String routeFile() {
        return "routes/inverter/modbus-bridge.camel.yaml";
    }

    @Override
    protected void advise() throws Exception {
        // the pool application.properties declares for camel-main
        context.getExecutorServiceManager().registerThreadPoolProfile(
                new ThreadPoolProfileBuilder("inverter-modbus").poolSize(2).maxPoolSize(2).build());
        AdviceWith.adviceWith(context, "inverter-modbus-request", route -> {
            route.replaceFromWith("direct:request");
            route.weaveByToUri("http:*").replace().to("mock:web-api");
            route.weaveByToUri("mqtt:*").replace().to("mock:responses");
        });
    }

    @Test
    void should_call_the_web_api_with_the_query_and_publish_its_answer_with_the_request() throws Exception {
        MockEndpoint webApi = getMockEndpoint("mock:web-api");
        webApi.whenAnyExchangeReceived(call -> call.getMessage().setBody("{\"register\":10056,\"value\":50.0}"));
        webApi.expectedHeaderReceived("CamelHttpQuery",
                "device_id=A2332407312&function_code=3&address=10056&size=1&type=U16&endianess=big&scale_factor=1");
        MockEndpoint responses = getMockEndpoint("mock:responses");
        responses.expectedMessageCount(1);

        String request = "{\"function_code\": 3, \"device_id\": \"A2332407312\", \"address\": 10056}";
        template.sendBody("direct:request", request.getBytes());

        webApi.assertIsSatisfied();
        responses.assertIsSatisfied();
        assertThat(responses.getExchanges().get(0).getMessage().getBody(String.class)).matches("\\{\"timestamp\":\"" + TIMESTAMP
                + "\",\"type\":\"modbus_response\",\"request\":\\Q" + request + "\\E,\"response\":\\{\"register\":10056,\"value\":50.0}}");
    }

    @Test
    void should_publish_the_web_apis_error_text_and_status() throws Exception {
        getMockEndpoint("mock:web-api").whenAnyExchangeReceived(call -> {
            throw new HttpOperationFailedException("http://inverter/api/inverter/modbus", 400, "Bad Request", null, Map.of(),
                    "{\"error\":\"device nope not found\"}");
        });
        MockEndpoint responses = getMockEndpoint("mock:responses");
        responses.expectedMessageCount(1);

        template.sendBody("direct:request", "{\"function_code\":3,\"device_id\":\"nope\",\"address\":1}".getBytes());

        responses.assertIsSatisfied();
        assertThat(responses.getExchanges().get(0).getMessage().getBody(String.class))
                .endsWith(",\"response\":{\"success\":false,\"error\":\"device nope not found\",\"status\":400}}");
    }

    @Test
    void should_refuse_an_invalid_request_without_calling_the_web_api() throws Exception {
        MockEndpoint webApi = getMockEndpoint("mock:web-api");
        webApi.expectedMessageCount(0);
        MockEndpoint responses = getMockEndpoint("mock:responses");
        responses.expectedMessageCount(1);

        template.sendBody("direct:request", "{\"function_code\":99,\"device_id\":\"A2332407312\",\"address\":1}".getBytes());

        responses.assertIsSatisfied();
        webApi.assertIsSatisfied();
        assertThat(responses.getExchanges().get(0).getMessage().getBody(String.class)).endsWith(",\"response\":{\"success\":false,"
                + "\"error\":\"unsupported function_code 99: 3 and 4 read registers, 16 writes them\",\"status\":null}}");
    }
}
