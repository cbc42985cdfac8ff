package org.iotgateway.live;

import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import org.iotgateway.mqtt.MqttConnection;
import org.iotgateway.testing.HeadlessChromium;
import org.iotgateway.testing.RunningGateway;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real browser: messages published with mosquitto_pub appear in its table, the filter box
 * narrows it, and a reload keeps the filter. The screenshot lands in target/screenshots/ as a build artifact.
 */
class DashboardBrowserTest {

    @Test
    void should_show_published_messages_and_narrow_them_with_the_filter_box() throws Exception {
        assumeTrue(HeadlessChromium.available(), "needs /usr/bin/chromium (Debian package chromium), as .ci/run installs");
        assumeTrue(java.nio.file.Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")), "needs mosquitto_pub (mosquitto-clients)");
        String prefix = "dashboard-" + UUID.randomUUID().toString().substring(0, 8);
        try (RunningGateway gateway = RunningGateway.startOnly("live", Map.of());
             HeadlessChromium browser = HeadlessChromium.start()) {
            MqttConnection connection = gateway.awaitMqttReady("liveMqtt");
            String broker = gateway.property("live.mqtt-url");
            browser.open("http://127.0.0.1:" + gateway.property("live.port") + "/?filter=" + prefix + "/%23");
            await().atMost(20, TimeUnit.SECONDS).until(() -> "open".equals(state(browser)));

            mosquittoPub(broker, prefix + "/sensor/temperature/living-room", "{\"temperature\": 23.5}");
            mosquittoPub(broker, prefix + "/device/esp32-001/status", "online");
            mosquittoPub(broker, prefix + "/sensor/humidity/bedroom", "41 %");
            await().atMost(20, TimeUnit.SECONDS).until(() -> rows(browser) == 3);
            assertThat(browser.evaluate("[...document.querySelectorAll('#messages tr')].map(r => r.dataset.topic + ' ' + r.lastChild.textContent)")
                    .toString()).contains(prefix + "/device/esp32-001/status online", prefix + "/sensor/temperature/living-room {\\\"temperature\\\": 23.5}");

            browser.evaluate("document.getElementById('filter').value = '" + prefix + "/sensor/#';"
                    + "document.getElementById('apply').click(); true");
            await().atMost(10, TimeUnit.SECONDS).until(() -> rows(browser) == 0);
            mosquittoPub(broker, prefix + "/device/esp32-001/status", "offline");
            mosquittoPub(broker, prefix + "/sensor/temperature/kitchen", "19.0");
            await().atMost(20, TimeUnit.SECONDS).until(() -> rows(browser) == 1);
            assertThat(browser.evaluate("document.querySelector('#messages tr').dataset.topic").asText())
                    .isEqualTo(prefix + "/sensor/temperature/kitchen");
            browser.screenshot(Path.of("target", "screenshots", "dashboard.png"));

            // a reload keeps the filter (it is in the page's address) and reconnects
            // the marker lives in the old page only: its absence proves the reload happened
            browser.evaluate("window.beforeReload = true; location.reload(); true");
            await().atMost(20, TimeUnit.SECONDS).ignoreExceptions().until(() ->
                    !browser.evaluate("window.beforeReload === true").asBoolean() && "open".equals(state(browser)));
            assertThat(browser.evaluate("document.getElementById('filter').value").asText()).isEqualTo(prefix + "/sensor/#");
            mosquittoPub(broker, prefix + "/device/esp32-001/status", "online");
            mosquittoPub(broker, prefix + "/sensor/temperature/kitchen", "19.5");
            await().atMost(20, TimeUnit.SECONDS).until(() -> rows(browser) == 1);
        }
    }

    /** The connection state the page shows; empty while the page is still loading. */
    private static String state(HeadlessChromium browser) throws Exception {
        return browser.evaluate("(document.getElementById('state') || {}).textContent || ''").asText();
    }

    private static int rows(HeadlessChromium browser) throws Exception {
        return browser.evaluate("document.querySelectorAll('#messages tr').length").asInt();
    }

    private static void mosquittoPub(String brokerUrl, String topic, String message) throws Exception {
        java.net.URI broker = java.net.URI.create(brokerUrl);
        Process process = new ProcessBuilder("/usr/bin/mosquitto_pub", "-h", broker.getHost(), "-p", Integer.toString(broker.getPort()),
                "-V", "mqttv5", "-q", "1", "-t", topic, "-m", message).redirectErrorStream(true).start();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(new String(process.getInputStream().readAllBytes())).isZero();
    }
}
