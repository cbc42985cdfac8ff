package org.iotgateway;

import java.util.Map;

import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A route group is switched off by its property alone: no routes, no endpoints, no stand-ins for its services. And the
 * routes that run pay for no exchange events that nothing listens to.
 */
class RouteGroupsTest {

    @Test
    void should_load_no_route_and_start_no_embedded_services_when_the_groups_are_disabled() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(Map.of("mqttsn.enabled", "false", "live.enabled", "false"))) {
            assertThat(gateway.context().getRoutes()).isEmpty();
            assertThat(System.getProperty("mqttsn.amqp-connection-string")).isNull();
            assertThat(System.getProperty("mqttsn.valkey-connection-string")).isNull();
            assertThat(System.getProperty("live.mqtt-url")).isNull();
        }
    }

    @Test
    void should_load_the_mqttsn_route_by_default() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(Map.of())) {
            assertThat(gateway.context().getRoute("mqttsn-readings-to-rabbitmq")).isNotNull();
        }
    }

    @Test
    void should_run_only_the_groups_gateway_groups_names_whatever_their_enabled_switches_say() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(Map.of("gateway.groups", "live", "mqttsn.enabled", "true"))) {
            assertThat(gateway.context().getRoutes()).isNotEmpty()
                    .allSatisfy(route -> assertThat(route.getSourceLocation()).contains("routes/live/"));
        }
    }

    @Test
    void should_refuse_to_start_when_gateway_groups_names_a_group_without_a_folder() {
        assertThatThrownBy(() -> RunningGateway.start(Map.of("gateway.groups", "mqttsn, meters")).close())
                .hasStackTraceContaining("gateway.groups names [meters]");
    }

    @Test
    void should_raise_no_exchange_events_when_no_notifier_wants_them() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(Map.of())) {
            assertThat(gateway.context().getCamelContextExtension().isEventNotificationApplicable()).isFalse();
            // the route notifier still counts the routes
            assertThat(gateway.metrics()).containsPattern("camel_routes_running_routes\\{[^}]*\\} [1-9]");
        }
    }
}
