package org.iotgateway;

import java.util.Map;

import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** A route group is switched off by its property alone: no routes, no endpoints, no stand-ins for its services. */
class RouteGroupsTest {

    @Test
    void should_load_no_mqttsn_route_and_start_no_embedded_services_when_the_group_is_disabled() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(Map.of("mqttsn.enabled", "false"))) {
            assertThat(gateway.context().getRoutes()).isEmpty();
            assertThat(System.getProperty(DevServiceNeeds.AMQP)).isNull();
            assertThat(System.getProperty(DevServiceNeeds.VALKEY)).isNull();
        }
    }

    @Test
    void should_load_the_mqttsn_route_by_default() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(Map.of())) {
            assertThat(gateway.context().getRoute("mqttsn-readings-to-rabbitmq")).isNotNull();
        }
    }
}
