package org.iotgateway.mqttsn;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.UdpClient;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.iotgateway.testing.Vectors.message;

/** RabbitMQ unreachable at boot: the app stays up, says it is not ready and why, and devices get congestion. */
class BrokerUnreachableTest {

    @Test
    void should_stay_up_report_not_ready_and_answer_congestion_while_rabbitmq_is_unreachable() throws Exception {
        String nowhere = "amqp://guest:guest@127.0.0.1:" + RunningGateway.freeTcpPort() + "//";
        try (RunningGateway gateway = RunningGateway.startOnly("mqttsn", Map.of("mqttsn.amqp-connection-string", nowhere));
             UdpClient device = new UdpClient(gateway.udpPort())) {
            HttpClient http = HttpClient.newHttpClient();
            URI ready = URI.create("http://localhost:" + gateway.managementPort() + "/observe/health/ready");
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(ready).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(503);
                assertThat(response.body()).contains("DOWN");
            });
            HttpResponse<String> live = http.send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + gateway.managementPort() + "/observe/health/live")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(live.statusCode()).isEqualTo(200);

            assertThat(device.exchange(message("04 04 01 00 3c", "meter2"))).isEqualTo("03 05 00");
            assertThat(device.exchange(message("0a 00 00 00 01", "a/b/c/d"))).isEqualTo("07 0b 00 01 00 01 00");
            assertThat(device.exchange(message("0c 20 00 01 00 02", "r"))).as("congestion: the meter keeps the reading")
                    .isEqualTo("07 0d 00 01 00 02 01");
        }
    }
}
