package org.iotgateway.live;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.iotgateway.testing.HeadlessChromium;
import org.iotgateway.testing.Metrics;
import org.iotgateway.testing.MqttTestClient;
import org.iotgateway.testing.RunningGateway;
import org.iotgateway.testing.StallingProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The dashboard in a real browser (headless Chromium over the DevTools protocol), fed by mosquitto_pub and an MQTT
 * client through a running gateway. Screenshots at 1280 and 390 px, light and dark, land in target/screenshots/ as
 * build artifacts.
 */
class DashboardBrowserTest {

    private static final String COMMANDS = "dashboard-commands";
    private static RunningGateway gateway;
    private static HeadlessChromium browser;
    private static MqttTestClient device;
    private String prefix;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(HeadlessChromium.available(), "needs /usr/bin/chromium (Debian package chromium), as .ci/run installs");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/mosquitto_pub")), "needs mosquitto_pub (mosquitto-clients)");
        gateway = RunningGateway.startOnly("live", Map.of("live.client-publish-topics", COMMANDS + "/#"));
        gateway.awaitMqttReady("liveMqtt");
        browser = HeadlessChromium.start();
        device = new MqttTestClient(gateway.property("live.mqtt-url"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (device != null) {
            device.close();
        }
        if (browser != null) {
            browser.close();
        }
        if (gateway != null) {
            gateway.close();
        }
    }

    @BeforeEach
    void widescreen() throws Exception {
        browser.viewport(1280, 900, false);
        browser.colorScheme("light");
        prefix = "dashboard-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void should_show_retained_values_first_then_live_messages_in_the_list_and_the_topic_tree_narrowed_by_the_filter() throws Exception {
        mosquittoPub("-r", "-t", prefix + "/config/interval", "-m", "60");
        open(gateway, "?filter=" + prefix + "/%23");
        await().atMost(10, TimeUnit.SECONDS).until(() -> "60".equals(treeValue(prefix + "/config/interval")));
        assertThat(js(node(prefix + "/config/interval") + ".querySelector('.value').classList.contains('retained')").asBoolean())
                .as("marked as the retained value").isTrue();

        mosquittoPub("-t", prefix + "/sensor/temperature/living-room", "-m", "{\"temperature\": 23.5}");
        mosquittoPub("-t", prefix + "/device/esp32-001/status", "-m", "online");
        mosquittoPub("-t", prefix + "/sensor/humidity/bedroom", "-m", "41 %");
        mosquittoPub("-t", prefix + "/device/esp32-001/status", "-m", "offline");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 5);
        assertThat(js("[...document.querySelectorAll('#list .message')].map(r => r.dataset.topic + ' ' + r.querySelector('.data').textContent)")
                .toString()).contains(prefix + "/device/esp32-001/status offline", prefix + "/sensor/temperature/living-room {\\\"temperature\\\": 23.5}");
        await().atMost(5, TimeUnit.SECONDS).until(() -> "offline".equals(treeValue(prefix + "/device/esp32-001/status")));
        assertThat(js(node(prefix + "/device/esp32-001/status") + ".querySelector('.stats').textContent").asText())
                .as("messages of the topic, and its rate").startsWith("2 · ").endsWith("/s");
        assertThat(text("list-info")).isEqualTo("5 newest kept (up to 2000)");
        assertThat(text("count")).isEqualTo("5");

        applyFilter(prefix + "/sensor/#");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 2);
        assertThat(js(node(prefix + "/device") + " === null").asBoolean()).as("topics the filter leaves out leave the tree").isTrue();
        mosquittoPub("-t", prefix + "/device/esp32-001/status", "-m", "online");
        mosquittoPub("-t", prefix + "/sensor/temperature/kitchen", "-m", "19.0");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 3);
        assertThat(js("document.querySelector('#list .message').dataset.topic").asText()).isEqualTo(prefix + "/sensor/temperature/kitchen");
        assertThat(js("location.search").asText()).isEqualTo("?filter=" + prefix + "%2Fsensor%2F%23");
        browser.screenshot(Path.of("target", "screenshots", "dashboard-1280.png"));

        // a reload keeps the filter (it is in the page's address) and reconnects; the marker lives in the old page only
        js("window.beforeReload = true; location.reload(); true");
        await().atMost(20, TimeUnit.SECONDS).ignoreExceptions().until(() ->
                !js("window.beforeReload === true").asBoolean() && "open".equals(stateClass("state")));
        assertThat(js("document.getElementById('filter').value").asText()).isEqualTo(prefix + "/sensor/#");
        mosquittoPub("-t", prefix + "/sensor/temperature/kitchen", "-m", "19.5");
        await().atMost(10, TimeUnit.SECONDS).until(() -> "19.5".equals(treeValue(prefix + "/sensor/temperature/kitchen")));
    }

    @Test
    void should_keep_the_current_filter_when_a_new_one_is_invalid_or_refused_by_the_gateway() throws Exception {
        open(gateway, "?filter=" + prefix + "/%23");
        applyFilter(prefix + "/#/x, " + prefix + "/+");
        assertThat(text("notice")).isEqualTo("Filter not applied: '" + prefix + "/#/x': '#' must be a whole level and the last one."
                + " Still showing " + prefix + "/#");
        assertThat(js("document.getElementById('filter').getAttribute('aria-invalid')").asText()).isEqualTo("true");
        assertThat(js("location.search").asText()).isEqualTo("?filter=" + prefix + "/%23");

        String huge = prefix + "/" + "a".repeat(40_000);
        applyFilter(huge + ", " + huge + "b");
        assertThat(text("notice")).startsWith("Filter not applied: the filters make a request of ")
                .endsWith(" bytes, over the gateway's limit of 65536 (live.max-request-bytes). Still showing " + prefix + "/#");

        // what the page leaves to the gateway (a noncharacter): its refusal keeps the filter too
        applyFilter(prefix + "/\uFFFF");
        await().atMost(10, TimeUnit.SECONDS).until(() -> text("notice").startsWith("Filter refused by the gateway: "));
        assertThat(text("notice")).isEqualTo("Filter refused by the gateway: subscribe: the topic filter contains the noncharacter"
                + " U+FFFF. Still showing " + prefix + "/#");
        mosquittoPub("-t", prefix + "/still/shown", "-m", "yes");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 1);

        // an invalid filter in the address: the valid ones stand, and the page connects
        open(gateway, "?filter=" + prefix + "/%23/x&filter=" + prefix + "/still/%2B");
        assertThat(text("notice")).isEqualTo("Filter refused: '" + prefix + "/#/x': '#' must be a whole level and the last one."
                + " Showing " + prefix + "/still/+ instead.");
        assertThat(js("location.search").asText()).isEqualTo("?filter=" + prefix + "%2Fstill%2F%2B");
        mosquittoPub("-t", prefix + "/still/shown", "-m", "again");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 1);
    }

    @Test
    void should_keep_what_arrives_while_paused_and_show_it_on_resume_and_say_what_the_bounded_list_dropped() throws Exception {
        open(gateway, "?filter=" + prefix + "/%23");
        publish(prefix + "/before/", 2);
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 2);
        click("pause");
        publish(prefix + "/paused/", 3);
        await().atMost(10, TimeUnit.SECONDS).until(() -> text("list-info").contains("paused: 3 waiting"));
        assertThat(rows()).as("the list stands still while paused").isEqualTo(2);
        assertThat(text("pause")).isEqualTo("Resume");
        click("pause");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 5);
        assertThat(js("document.querySelector('#list .message').dataset.topic").asText()).isEqualTo(prefix + "/paused/2");

        // in steps of 500, each taken by the page before the next: a burst beyond the page's backlog at the gateway
        // (live.client-queue-size, 1,000) would be dropped there, which is another test's subject
        for (int step = 0; step < 2_300; step += 500) {
            publish(prefix + "/many/" + step + "-", Math.min(500, 2_300 - step));
            String expected = Integer.toString(5 + Math.min(step + 500, 2_300));
            await().atMost(30, TimeUnit.SECONDS).until(() -> expected.equals(text("count")));
        }
        await().atMost(5, TimeUnit.SECONDS).until(() -> text("list-info").equals("2000 newest kept (up to 2000) · 305 older removed"));
        assertThat(rows()).as("only the rows in view are in the page").isLessThan(100);
    }

    @Test
    void should_say_how_many_messages_the_gateway_dropped_while_the_page_did_not_keep_up() throws Exception {
        open(gateway, "?filter=" + prefix + "/%23");
        assertThat(js("document.getElementById('dropped').hidden").asBoolean()).isTrue();
        double droppedBefore = Metrics.sum(gateway.metrics(), "live_frames_dropped_total", "reason=\"client_backlog_full\"");
        browser.pauseScripts();
        try {
            String padding = "x".repeat(2_000);
            for (int i = 0; Metrics.sum(gateway.metrics(), "live_frames_dropped_total", "reason=\"client_backlog_full\"") == droppedBefore; i++) {
                assertThat(i).as("batches published before the page's backlog at the gateway overflowed").isLessThan(100);
                for (int j = 0; j < 500; j++) {
                    device.publish(prefix + "/flood", (j + padding).getBytes(StandardCharsets.UTF_8), 0, false);
                }
            }
        } finally {
            browser.resumeScripts();
        }
        await().atMost(10, TimeUnit.SECONDS).until(() -> !js("document.getElementById('dropped').hidden").asBoolean());
        assertThat(text("dropped")).matches("[1-9]\\d* dropped by the gateway: this page fell behind");
        assertThat(stateClass("state")).as("still connected").isEqualTo("open");
    }

    @Test
    void should_show_a_message_in_detail_as_pretty_json_text_hex_and_base64_with_its_size_qos_and_times() throws Exception {
        open(gateway, "?filter=" + prefix + "/%23");
        device.publish(prefix + "/json", "{\"a\":1,\"b\":{\"c\":\"x\"}}".getBytes(StandardCharsets.UTF_8), 1, false);
        device.publish(prefix + "/text", "line one\nline two".getBytes(StandardCharsets.UTF_8), 0, false);
        device.publish(prefix + "/binary", new byte[] {0x00, (byte) 0xff, 0x10}, 0, false);
        device.publish(prefix + "/empty", new byte[0], 0, false);
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 4);
        assertThat(rowData(prefix + "/empty")).isEqualTo("(empty)");
        assertThat(rowData(prefix + "/binary")).isEqualTo("3 bytes: 00 ff 10");
        assertThat(rowData(prefix + "/text")).isEqualTo("line one ⏎ line two");

        clickRow(prefix + "/json");
        assertThat(js("document.getElementById('detail').hidden").asBoolean()).isFalse();
        assertThat(text("detail-topic")).isEqualTo(prefix + "/json");
        assertThat(text("detail-body")).isEqualTo("{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  }\n}");
        assertThat(js("[...document.querySelectorAll('#detail-views button')].map(b => b.textContent).join()").asText())
                .isEqualTo("JSON,Text,Hex,Base64");
        String meta = text("detail-meta");
        // delivered at the QoS the gateway subscribed with (live.qos, 0)
        assertThat(meta).contains("Size21 bytes", "QoS0", "Retainedno", "Received");
        assertThat(meta).containsPattern("UTC\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
        click("copy-payload");
        await().atMost(5, TimeUnit.SECONDS).until(() -> "copied".equals(text("copy-result")));

        clickRow(prefix + "/text");
        assertThat(text("detail-body")).as("text with its line breaks").isEqualTo("line one\nline two");
        clickRow(prefix + "/binary");
        assertThat(js("[...document.querySelectorAll('#detail-views button')].map(b => b.textContent).join()").asText()).isEqualTo("Hex,Base64");
        assertThat(text("detail-body")).isEqualTo("00000000  00 ff 10" + " ".repeat(40) + " ...");
        js("[...document.querySelectorAll('#detail-views button')].find(b => b.textContent === 'Base64').click()");
        assertThat(text("detail-body")).isEqualTo("AP8Q");
        assertThat(text("detail-meta")).contains("Size3 bytes (binary)");
        browser.screenshot(Path.of("target", "screenshots", "dashboard-1280-detail.png"));

        // the keyboard: arrows move through the list, Escape closes the detail
        js("document.getElementById('list').focus()");
        browser.key("Home");
        assertThat(text("detail-topic")).isEqualTo(prefix + "/empty");
        browser.key("ArrowDown");
        assertThat(text("detail-topic")).isEqualTo(prefix + "/binary");
        browser.key("Escape");
        assertThat(js("document.getElementById('detail').hidden").asBoolean()).isTrue();
    }

    @Test
    void should_chart_a_json_field_of_a_topic_live() throws Exception {
        open(gateway, "?filter=" + prefix + "/%23");
        for (int i = 0; i < 5; i++) {
            device.publish(prefix + "/room", ("{\"temperature\":" + (20 + i) + ",\"unit\":\"C\"}").getBytes(StandardCharsets.UTF_8), 0, false);
        }
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 5);
        clickRow(prefix + "/room");
        assertThat(js("[...document.querySelectorAll('#detail-chart button')].map(b => b.textContent).join()").asText())
                .isEqualTo("Chart temperature");
        js("document.querySelector('#detail-chart button').click()");
        assertThat(js("document.getElementById('charts').hidden").asBoolean()).isFalse();
        await().atMost(5, TimeUnit.SECONDS).until(() -> text("legend").contains(prefix + "/room → temperature: 24"));
        device.publish(prefix + "/room", "{\"temperature\":30.5,\"unit\":\"C\"}".getBytes(StandardCharsets.UTF_8), 0, false);
        await().atMost(5, TimeUnit.SECONDS).until(() -> text("legend").contains(prefix + "/room → temperature: 30.5"));
        assertThat(js("(() => { const c = document.getElementById('chart'); const d = c.getContext('2d')"
                + ".getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })()")
                .asInt()).as("pixels drawn").isGreaterThan(500);
    }

    @Test
    void should_search_topics_and_payloads() throws Exception {
        open(gateway, "?filter=" + prefix + "/%23");
        mosquittoPub("-t", prefix + "/a", "-m", "alpha");
        mosquittoPub("-t", prefix + "/b", "-m", "beta gamma");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 2);
        search("GAMMA");
        await().atMost(5, TimeUnit.SECONDS).until(() -> rows() == 1);
        assertThat(rowData(prefix + "/b")).isEqualTo("beta gamma");
        assertThat(text("list-info")).isEqualTo("1 of 2 kept match “GAMMA”");
        search(prefix + "/a");
        await().atMost(5, TimeUnit.SECONDS).until(() -> rows() == 1 && rowData(prefix + "/a") != null);
    }

    @Test
    void should_publish_from_the_form_to_an_allowed_topic_and_show_the_gateways_answer() throws Exception {
        BlockingQueue<MqttTestClient.Received> commands = device.subscribe(COMMANDS + "/#");
        open(gateway, "?filter=" + prefix + "/%23");
        await().atMost(5, TimeUnit.SECONDS).until(() -> !js("document.getElementById('publish').hidden").asBoolean());
        assertThat(text("publish-allowed")).isEqualTo(COMMANDS + "/#");

        fillPublish(COMMANDS + "/lamp", "on");
        await().atMost(10, TimeUnit.SECONDS).until(() -> text("publish-result").startsWith("Published to " + COMMANDS + "/lamp at "));
        MqttTestClient.Received command = commands.poll(10, TimeUnit.SECONDS);
        assertThat(command).isNotNull();
        assertThat(command.topic()).isEqualTo(COMMANDS + "/lamp");
        assertThat(command.text()).isEqualTo("on");

        fillPublish("elsewhere/lamp", "on");
        assertThat(text("publish-result")).isEqualTo("'elsewhere/lamp' is not in the allowed topics: " + COMMANDS + "/#");
        fillPublish(COMMANDS + "/+", "on");
        assertThat(text("publish-result")).isEqualTo("A topic to publish to has no wildcards and is not empty");
    }

    @Test
    void should_fit_a_390_px_phone_and_a_360_px_one_and_read_in_dark_mode() throws Exception {
        device.publish(prefix + "/sensor/temperature/living-room", "{\"temperature\": 23.5, \"humidity\": 41}".getBytes(StandardCharsets.UTF_8), 1, true);
        device.publish(prefix + "/device/esp32-001/status", "online".getBytes(StandardCharsets.UTF_8), 1, false);
        for (int width : new int[] {390, 360}) {
            browser.viewport(width, 844, true);
            open(gateway, "?filter=" + prefix + "/%23");
            await().atMost(10, TimeUnit.SECONDS).until(() -> rows() >= 1);
            mosquittoPub("-t", prefix + "/device/esp32-001/status", "-m", "offline");
            await().atMost(10, TimeUnit.SECONDS).until(() -> rowData(prefix + "/device/esp32-001/status") != null);
            assertThat(js("document.documentElement.scrollWidth").asInt()).as("no sideways scrolling at " + width).isLessThanOrEqualTo(width);
            assertThat(js("document.querySelector('#list .message .topic').getBoundingClientRect().width").asDouble())
                    .as("the topic shown at " + width).isGreaterThan(width / 2.0);
            if (width == 390) {
                browser.screenshot(Path.of("target", "screenshots", "dashboard-390.png"));
                clickRow(prefix + "/sensor/temperature/living-room");
                assertThat(js("document.getElementById('detail').getBoundingClientRect().width").asDouble()).isLessThanOrEqualTo(width);
                browser.screenshot(Path.of("target", "screenshots", "dashboard-390-detail.png"));
                browser.colorScheme("dark");
                assertThat(js("getComputedStyle(document.body).backgroundColor").asText()).isEqualTo("rgb(13, 17, 23)");
                browser.screenshot(Path.of("target", "screenshots", "dashboard-390-dark.png"));
                browser.colorScheme("light");
            }
        }
        browser.viewport(1280, 900, false);
        browser.colorScheme("dark");
        open(gateway, "?filter=" + prefix + "/%23");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() >= 1);
        clickRow(prefix + "/sensor/temperature/living-room");
        browser.screenshot(Path.of("target", "screenshots", "dashboard-1280-dark.png"));
    }

    @Test
    void should_name_every_control_for_assistive_technology_and_reach_the_list_by_keyboard() throws Exception {
        open(gateway, "?filter=" + prefix + "/%23");
        mosquittoPub("-t", prefix + "/a", "-m", "1");
        await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 1);
        clickRow(prefix + "/a");
        // a control without a name is read out as "button" or "edit text"
        assertThat(js("[...document.querySelectorAll('button, input, select, textarea')].filter(c => {"
                + " const name = (c.getAttribute('aria-label') || c.textContent || (c.labels && [...c.labels].map(l => l.textContent).join('')) || '').trim();"
                + " return name === '' && !c.closest('[hidden]'); }).map(c => c.outerHTML.slice(0, 80))").toString())
                .as("controls without an accessible name").isEqualTo("[]");
        // Tab from the filter reaches the list, where the arrows move
        js("document.getElementById('filter').focus(); true");
        for (int i = 0; i < 12 && !"list".equals(js("document.activeElement.id").asText()); i++) {
            browser.key("Tab");
        }
        assertThat(js("document.activeElement.id").asText()).isEqualTo("list");
    }

    @Test
    void should_ask_for_the_bearer_token_the_feed_needs_and_connect_with_it() throws Exception {
        try (RunningGateway guarded = RunningGateway.startOnly("live", Map.of("live.bearer-token", "s3cret-token"))) {
            guarded.awaitMqttReady("liveMqtt");
            browser.open(page(guarded, "?filter=" + prefix + "/%23"));
            await().atMost(20, TimeUnit.SECONDS).ignoreExceptions().until(() -> "token needed".equals(text("state")));
            assertThat(text("notice")).startsWith("This feed needs a bearer token: a bearer token is required");
            assertThat(js("document.getElementById('token-form').hidden").asBoolean()).isFalse();
            // no retry behind the user's back: it stays so
            await().during(Duration.ofSeconds(2)).atMost(5, TimeUnit.SECONDS).until(() -> "token needed".equals(text("state")));

            js("document.getElementById('token').value = 's3cret-token';"
                    + "document.getElementById('token-form').requestSubmit(); true");
            await().atMost(10, TimeUnit.SECONDS).until(() -> "open".equals(stateClass("state")) && "open".equals(stateClass("broker")));
            assertThat(js("document.getElementById('publish').hidden").asBoolean()).as("publishing from browsers is off").isTrue();
            mosquittoPub(guarded, "-t", prefix + "/guarded", "-m", "read");
            await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 1);
        }
    }

    @Test
    void should_say_when_the_gateway_lost_the_broker_and_why_and_recover_on_its_own() throws Exception {
        try (StallingProxy proxy = StallingProxy.toMqttBroker();
             RunningGateway behindProxy = RunningGateway.startOnly("live", Map.of("live.mqtt-url", proxy.url()))) {
            behindProxy.awaitMqttReady("liveMqtt");
            browser.open(page(behindProxy, "?filter=" + prefix + "/%23"));
            await().atMost(20, TimeUnit.SECONDS).ignoreExceptions().until(() -> "broker up".equals(text("broker")));

            proxy.down();
            await().atMost(20, TimeUnit.SECONDS).until(() -> text("broker").startsWith("broker down since "));
            assertThat(text("broker")).containsPattern("broker down since \\d\\d:\\d\\d:\\d\\d\\.\\d{3}: connection lost");
            assertThat(stateClass("broker")).isEqualTo("closed");
            assertThat(text("state")).as("the page's own connection is fine").isEqualTo("live");
            browser.screenshot(Path.of("target", "screenshots", "dashboard-1280-broker-down.png"));

            proxy.up();
            await().atMost(60, TimeUnit.SECONDS).until(() -> "broker up".equals(text("broker")));
            mosquittoPub("-t", prefix + "/after", "-m", "back");
            await().atMost(10, TimeUnit.SECONDS).until(() -> rows() == 1);
        }
    }

    private static String page(RunningGateway target, String query) {
        return "http://127.0.0.1:" + target.property("live.port") + "/" + query;
    }

    /** Opens the dashboard and waits until it is live with the broker's state known. */
    private static void open(RunningGateway target, String query) throws Exception {
        browser.open(page(target, query));
        await().atMost(20, TimeUnit.SECONDS).ignoreExceptions().until(() ->
                "open".equals(stateClass("state")) && "open".equals(stateClass("broker")));
    }

    /** The topic tree's node of a topic (its li), or null. */
    private static String node(String topic) {
        return "([...document.querySelectorAll('#tree .node')].find(n => n.querySelector('.toggle').getAttribute('aria-label')"
                + " === 'Show or hide the topics under ' + " + literal(topic) + ")?.parentElement || null)";
    }

    private static JsonNode js(String expression) throws Exception {
        return browser.evaluate(expression);
    }

    private static String text(String id) throws Exception {
        return js("(document.getElementById('" + id + "') || {}).textContent || ''").asText();
    }

    private static String stateClass(String id) throws Exception {
        return js("(document.getElementById('" + id + "') || {className: ''}).className.replace('badge ', '')").asText();
    }

    private static void click(String id) throws Exception {
        js("document.getElementById('" + id + "').click(); true");
    }

    private static int rows() throws Exception {
        return js("document.querySelectorAll('#list .message').length").asInt();
    }

    private static String treeValue(String topic) throws Exception {
        JsonNode value = js(node(topic) + "?.querySelector('.value').textContent ?? null");
        return value == null || value.isNull() ? null : value.asText();
    }

    private static String rowData(String topic) throws Exception {
        JsonNode data = js("[...document.querySelectorAll('#list .message')].find(r => r.dataset.topic === '" + topic + "')"
                + "?.querySelector('.data').textContent ?? null");
        return data == null || data.isNull() ? null : data.asText();
    }

    private static void clickRow(String topic) throws Exception {
        js("[...document.querySelectorAll('#list .message')].find(r => r.dataset.topic === '" + topic + "').click(); true");
    }

    private static void search(String text) throws Exception {
        js("(() => { const box = document.getElementById('search'); box.value = " + literal(text) + ";"
                + " box.dispatchEvent(new Event('input')); })(); true");
    }

    private static void applyFilter(String filters) throws Exception {
        js("document.getElementById('filter').value = " + literal(filters) + "; document.getElementById('apply').click(); true");
    }

    private static void fillPublish(String topic, String payload) throws Exception {
        js("document.getElementById('publish-topic').value = " + literal(topic) + ";"
                + "document.getElementById('publish-payload').value = " + literal(payload) + ";"
                + "document.getElementById('publish-form').requestSubmit(); true");
    }

    private static void publish(String topicPrefix, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            device.publish(topicPrefix + i, ("message " + i).getBytes(StandardCharsets.UTF_8), 0, false);
        }
    }

    private static void mosquittoPub(String... arguments) throws Exception {
        mosquittoPub(gateway, arguments);
    }

    /** Publishes with mosquitto_pub, a client written elsewhere, at QoS 1 over MQTT 5. */
    private static void mosquittoPub(RunningGateway target, String... arguments) throws Exception {
        URI broker = URI.create(target.property("live.mqtt-url"));
        List<String> command = new ArrayList<>(List.of("/usr/bin/mosquitto_pub", "-h", broker.getHost(),
                "-p", Integer.toString(broker.getPort()), "-V", "mqttv5", "-q", "1"));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertThat(process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(new String(process.getInputStream().readAllBytes())).isZero();
    }

    /** A JavaScript string literal. */
    private static String literal(String text) {
        return TextNode.valueOf(text).toString();
    }
}
