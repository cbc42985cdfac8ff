package org.iotgateway;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.CapturedLogs;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A port a listener cannot bind is an error: the group's route is not started and readiness says which and why (the
 * route controller retries it, and it starts once the port is free); the management port stops the start.
 */
class PortsTest {

    @Test
    void should_report_a_listener_port_in_use_as_an_error_and_not_ready_until_it_is_free() throws Exception {
        ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        int port = taken.getLocalPort();
        try (CapturedLogs logs = new CapturedLogs();
             RunningGateway gateway = RunningGateway.startOnly("live", Map.of("live.port", Integer.toString(port)))) {
            await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(gateway.readiness())
                    .startsWith("{\"status\":\"DOWN\"").contains("\"routes-started\"", "live-websocket-server=Live feed cannot listen on 127.0.0.1:"
                            + port, "Address already in use"));
            assertThat(logs.text()).containsOnlyOnce("ERROR RouteStarts - Route live-websocket-server cannot start: Live feed cannot listen");

            taken.close();
            await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
            assertThat(logs.text()).contains("INFO  RouteStarts - Route live-websocket-server started");
        } finally {
            taken.close();
        }
    }

    @Test
    void should_stop_the_start_with_the_reason_when_the_management_port_is_in_use() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertThatThrownBy(() -> RunningGateway.startOnly("live", Map.of("gateway.management-port",
                    Integer.toString(taken.getLocalPort())))).hasStackTraceContaining("The management port 127.0.0.1:"
                    + taken.getLocalPort() + " (gateway.management-port: health and metrics) cannot be bound: Address already in use");
        }
    }
}
