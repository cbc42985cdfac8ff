package org.iotgateway.live;

import java.util.Map;

import org.apache.camel.builder.AdviceWith;
import org.apache.camel.component.mock.MockEndpoint;
import org.iotgateway.mqtt.MqttConstants;
import org.iotgateway.testing.RouteFileTestSupport;
import org.junit.jupiter.api.Test;

/**
 * routes/live/mqtt-to-websocket.camel.yaml on its own, its broker and WebSocket server replaced: MQTT messages reach
 * the feed's to: endpoint, messages browsers publish reach the broker's. LiveFeedTest and its neighbours run the whole
 * feed against a real broker and browsers; copy this one to test an edit of the routes.
 */
class LiveRoutesTest extends RouteFileTestSupport {

    @Override
    protected String routeFile() {
        return "routes/live/mqtt-to-websocket.camel.yaml";
    }

    @Override
    protected void advise() throws Exception {
        AdviceWith.adviceWith(context, "live-mqtt-to-websocket", route -> {
            route.replaceFromWith("direct:from-broker");
            route.weaveByToUri("live:*").replace().to("mock:feed");
        });
        AdviceWith.adviceWith(context, "live-websocket-server", route -> {
            route.replaceFromWith("direct:from-browser");
            route.weaveByToUri("mqtt:*").replace().to("mock:broker");
        });
    }

    @Test
    void should_send_every_message_of_the_broker_to_the_feed() throws Exception {
        MockEndpoint feed = getMockEndpoint("mock:feed");
        feed.expectedBodiesReceived("21.5");
        feed.expectedHeaderReceived(MqttConstants.TOPIC, "sensor/kitchen/temperature");
        template.sendBodyAndHeaders("direct:from-broker", "21.5", Map.of(MqttConstants.TOPIC, "sensor/kitchen/temperature"));
        feed.assertIsSatisfied();
    }

    @Test
    void should_publish_what_a_browser_sends_to_the_broker() throws Exception {
        MockEndpoint broker = getMockEndpoint("mock:broker");
        broker.expectedBodiesReceived("on");
        broker.expectedHeaderReceived(MqttConstants.TOPIC, "lamp/1/set");
        template.sendBodyAndHeaders("direct:from-browser", "on", Map.of(MqttConstants.TOPIC, "lamp/1/set"));
        broker.assertIsSatisfied();
    }
}
