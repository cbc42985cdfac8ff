package org.iotgateway.channels;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.camel.builder.AdviceWith;
import org.apache.camel.component.mock.MockEndpoint;
import org.iotgateway.mqtt.MqttConstants;
import org.iotgateway.testing.RouteFileTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * routes/channels/mqtt-worker.camel.yaml with its edges replaced: the Channels app's messages come from a direct:
 * endpoint instead of the channel, publications and group sends go to mocks; the worker keeps its subscriptions in the
 * tests' Redis and subscribes on the tests' broker. ChannelsWorkerTest runs the worker against Django Channels' own
 * channels_redis; copy this one to test an edit of the routes.
 */
class ChannelsRoutesTest extends RouteFileTestSupport {

    private static final String PREFIX = "routes-test-" + System.nanoTime() + ":";

    @Override
    protected String routeFile() {
        return "routes/channels/mqtt-worker.camel.yaml";
    }

    @Override
    protected Properties useOverridePropertiesWithPropertiesComponent() {
        Properties properties = super.useOverridePropertiesWithPropertiesComponent();
        properties.setProperty("channels.prefix", PREFIX);
        return properties;
    }

    @Override
    protected void advise() throws Exception {
        AdviceWith.adviceWith(context, "channels-request", route -> {
            route.replaceFromWith("direct:from-app");
            route.weaveByToUri("mqtt:*").replace().to("mock:broker");
        });
        AdviceWith.adviceWith(context, "channels-mqtt-to-groups", route -> {
            route.replaceFromWith("direct:from-broker");
            route.weaveByToUri("channels:*").replace().to("mock:groups");
        });
    }

    @Test
    void should_publish_what_the_app_asks_to() throws Exception {
        MockEndpoint broker = getMockEndpoint("mock:broker");
        broker.expectedBodiesReceived("on");
        broker.expectedHeaderReceived(MqttConstants.TOPIC, "lamp/1/set");
        broker.expectedHeaderReceived(MqttConstants.QOS, 1);

        template.sendBodyAndHeader("direct:from-app", Map.of("type", "mqtt.publish",
                "publish", Map.of("topic", "lamp/1/set", "payload", "on", "qos", 1L, "retain", false)),
                ChannelsConstants.MESSAGE_TYPE, "mqtt.publish");

        broker.assertIsSatisfied();
    }

    @Test
    void should_send_an_mqtt_message_once_to_each_subscribed_group() throws Exception {
        for (String group : List.of("kitchen", "dashboard")) {
            template.sendBodyAndHeader("direct:from-app", Map.of("type", "mqtt.subscribe", "topic", "home/+/temp", "group", group),
                    ChannelsConstants.MESSAGE_TYPE, "mqtt.subscribe");
        }
        ChannelsWorker worker = context.getRegistry().lookupByNameAndType("channelsWorker", ChannelsWorker.class);
        await().atMost(10, TimeUnit.SECONDS).until(() -> worker.subscriptions().getOrDefault("home/+/temp", List.of()).size() == 2);
        MockEndpoint groups = getMockEndpoint("mock:groups");
        groups.expectedMessageCount(1);

        template.sendBodyAndHeaders("direct:from-broker", "21.5".getBytes(), Map.of(MqttConstants.TOPIC, "home/kitchen/temp",
                MqttConstants.QOS, 1, MqttConstants.RETAINED, false));

        groups.assertIsSatisfied();
        assertThat(groups.getExchanges().get(0).getMessage().getHeader(ChannelsConstants.GROUP, List.class))
                .containsExactlyInAnyOrder("kitchen", "dashboard");
        assertThat(groups.getExchanges().get(0).getMessage().getBody(Map.class)).containsEntry("type", "mqtt.message");
    }
}
