package org.iotgateway.channels;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChannelsMessagesTest {

    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    private static String published(Object payload) throws Exception {
        Map<String, Object> publish = map("topic", "t", "payload", payload);
        return new String(ChannelsMessages.publication(map("type", "mqtt_publish", "publish", publish)).payload(), StandardCharsets.UTF_8);
    }

    @Test
    void should_write_payloads_as_pythons_json_dumps_and_str_do() throws Exception {
        // the expected texts are what Python 3.11 prints for the same values
        assertThat(published(map("a", 1L, "b", Arrays.asList(true, null, 1.5, "é\n"),
                "c", map("d", 1e20, "e", 0.1, "f", 1e-7, "g", 100.0))))
                .isEqualTo("{\"a\": 1, \"b\": [true, null, 1.5, \"\\u00e9\\n\"], \"c\": {\"d\": 1e+20, \"e\": 0.1, \"f\": 1e-07, \"g\": 100.0}}");
        assertThat(published(true)).isEqualTo("True");
        assertThat(published(1.5)).isEqualTo("1.5");
        assertThat(published(1e20)).isEqualTo("1e+20");
        assertThat(published(1e16)).isEqualTo("1e+16");
        assertThat(published(123456789012345.0)).isEqualTo("123456789012345.0");
        assertThat(published(3L)).isEqualTo("3");
        assertThat(published("héllo")).isEqualTo("héllo");
        assertThat(published(null)).isEmpty();
    }

    @Test
    void should_default_to_qos_2_and_retain_as_the_original() throws Exception {
        ChannelsMessages.Publication publication = ChannelsMessages.publication(map("publish", map("topic", "a/b", "payload", "x")));
        assertThat(publication.qos()).isEqualTo(2);
        assertThat(publication.retain()).isTrue();
    }

    @Test
    void should_hand_payloads_to_channels_json_parsed_when_they_parse() {
        assertThat(ChannelsMessages.event("t", "23".getBytes(StandardCharsets.UTF_8), 1, false))
                .isEqualTo(map("type", "mqtt.message", "message", map("topic", "t", "payload", 23L, "qos", 1L, "retain", false)));
        assertThat(((Map<?, ?>) ChannelsMessages.event("t", "{\"a\":[1,2.5]}".getBytes(StandardCharsets.UTF_8), 0, true).get("message"))
                .get("payload")).isEqualTo(map("a", List.of(1L, 2.5)));
        assertThat(((Map<?, ?>) ChannelsMessages.event("t", "on".getBytes(StandardCharsets.UTF_8), 0, false).get("message"))
                .get("payload")).isEqualTo("on");
        assertThat(((Map<?, ?>) ChannelsMessages.event("t", new byte[] {(byte) 0xff}, 0, false).get("message"))
                .get("payload")).isEqualTo(new byte[] {(byte) 0xff});
    }

    @Test
    void should_name_what_is_wrong_with_a_message() {
        assertThatThrownBy(() -> ChannelsMessages.type(map("topic", "x"))).hasMessage("the message has no type");
        assertThatThrownBy(() -> ChannelsMessages.filter(map("topic", "a/#/b"))).hasMessageStartingWith("invalid topic filter 'a/#/b'");
        assertThatThrownBy(() -> ChannelsMessages.group(map("group", "bad group"))).hasMessageStartingWith("invalid group name 'bad group'");
        assertThatThrownBy(() -> ChannelsMessages.publication(map("publish", map("topic", "a", "qos", 3L))))
                .hasMessage("publish.qos must be 0, 1 or 2, got 3");
        assertThatThrownBy(() -> ChannelsMessages.publication(map("publish", map("topic", "a", "retain", "yes"))))
                .hasMessage("publish.retain must be true or false, got yes");
        assertThatThrownBy(() -> ChannelsMessages.publication(map("publish", map("topic", "a", "payload", List.of(new byte[1])))))
                .hasMessage("publish.payload holds bytes inside an object or list, which JSON cannot carry");
    }
}
