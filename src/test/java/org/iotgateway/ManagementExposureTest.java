package org.iotgateway;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Health and metrics listen on this machine only by default, and a caller cannot raise the health exposure level. */
class ManagementExposureTest {

    static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        gateway = RunningGateway.startOnly("mqttsn", Map.of());
        await().atMost(30, TimeUnit.SECONDS).until(() -> gateway.readiness().startsWith("{\"status\":\"UP\""));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static String get(String pathAndQuery) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + gateway.managementPort() + pathAndQuery)).build(), HttpResponse.BodyHandlers.ofString());
        return response.body();
    }

    @Test
    void should_answer_health_at_the_configured_exposure_level_whatever_the_query_asks() throws Exception {
        String configured = get("/observe/health");
        assertThat(configured).startsWith("{\"status\":\"UP\"").doesNotContain("mqttsn-store");
        for (String query : new String[] {"?exposureLevel=full", "?exposureLevel=full&stackTrace=true&data=true", "/ready?exposureLevel=full"}) {
            assertThat(get("/observe/health" + query)).as(query).doesNotContain("mqttsn-store", "\"checks\"");
        }
    }

    @Test
    void should_listen_on_the_loopback_address_only_by_default() throws Exception {
        Optional<InetAddress> outward = NetworkInterface.networkInterfaces().filter(network -> {
            try {
                return network.isUp() && !network.isLoopback();
            } catch (IOException e) {
                return false;
            }
        }).flatMap(NetworkInterface::inetAddresses).filter(Inet4Address.class::isInstance).findFirst();
        assumeTrue(outward.isPresent(), "this machine has no address but loopback");
        assertThatThrownBy(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(outward.get(), gateway.managementPort()), 2_000);
            }
        }).as("connecting to " + outward.get()).isInstanceOf(IOException.class);
    }
}
