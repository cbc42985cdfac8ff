package org.iotgateway.mqttsn;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StallingProxy;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The session store goes away (a relay in front of the tests' Redis is closed): readiness is DOWN and says why. */
class StoreOutageTest {

    @Test
    void should_turn_readiness_down_saying_why_while_the_store_is_unreachable() throws Exception {
        StallingProxy relay = StallingProxy.toValkey();
        try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.valkey-connection-string", relay.url()))) {
            await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
            relay.close();
            await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(gateway.readiness())
                    .startsWith("{\"status\":\"DOWN\"").contains("\"mqttsn-store\"", "the store at 127.0.0.1:", "is not connected"));
        } finally {
            relay.close();
        }
    }
}
