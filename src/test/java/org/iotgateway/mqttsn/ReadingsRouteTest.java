package org.iotgateway.mqttsn;

import java.util.Map;

import org.apache.camel.builder.AdviceWith;
import org.apache.camel.component.mock.MockEndpoint;
import org.iotgateway.testing.RouteFileTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * routes/mqttsn/readings-to-rabbitmq.camel.yaml on its own: what a reading becomes before the RabbitMQ publisher (its
 * routing key and AMQP headers), with the publisher replaced by a mock. The end-to-end tests over UDP and RabbitMQ are
 * MqttSnGatewayTest and its neighbours; copy this one to test an edit of the route.
 */
class ReadingsRouteTest extends RouteFileTestSupport {

    @Override
    protected String routeFile() {
        return "routes/mqttsn/readings-to-rabbitmq.camel.yaml";
    }

    @Override
    protected void advise() throws Exception {
        AdviceWith.adviceWith(context, "mqttsn-readings-to-rabbitmq", route -> route.weaveByToUri("rabbitmq-confirmed:*").replace().to("mock:publisher"));
    }

    @Test
    void should_hand_the_publisher_the_routing_key_and_the_python_gateways_headers() throws Exception {
        MockEndpoint publisher = getMockEndpoint("mock:publisher");
        publisher.expectedMessageCount(1);
        publisher.expectedBodiesReceived("reading");
        publisher.expectedHeaderReceived("CamelAmqpRoutingKey", "mr.94193A04010020B8.standard.json");
        publisher.expectedHeaderReceived("CamelAmqpMessageId", "94193A04010020B8:7");
        publisher.expectedHeaderReceived("client_id", "94193A04010020B8");
        publisher.expectedHeaderReceived("source", "10.0.0.7:40000");

        template.sendBodyAndHeaders("direct:mqttsn-readings", "reading", Map.of(
                MqttSnConstants.TOPIC_NAME, "mr/94193A04010020B8/standard/json",
                MqttSnConstants.CLIENT_ID, "94193A04010020B8",
                MqttSnConstants.READING_ID, "94193A04010020B8:7",
                MqttSnConstants.SOURCE, "10.0.0.7:40000",
                MqttSnConstants.QOS, 1,
                MqttSnConstants.RETAIN, false,
                MqttSnConstants.RECEIVED_AT, 1763920000000L));

        publisher.assertIsSatisfied();
        Map<String, Object> headers = publisher.getExchanges().get(0).getMessage().getHeaders();
        assertThat(headers.get("qos")).hasToString("1");
        assertThat(headers.get("retain")).hasToString("false");
        assertThat(headers.get("received_at")).hasToString("1763920000000");
    }

    @Test
    void should_turn_the_single_level_wildcard_into_amqps() throws Exception {
        MockEndpoint publisher = getMockEndpoint("mock:publisher");
        publisher.expectedHeaderReceived("CamelAmqpRoutingKey", "alarms.*.fire");
        template.sendBodyAndHeader("direct:mqttsn-readings", "x", MqttSnConstants.TOPIC_NAME, "alarms/+/fire");
        publisher.assertIsSatisfied();
    }
}
