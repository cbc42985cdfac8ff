package org.iotgateway.channels;

import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MsgPackTest {

    private static final HexFormat HEX = HexFormat.of();

    // the vectors of shared/reference/bridges.md §C, as channels_redis writes them (without the 12 random bytes)
    private static final String SUBSCRIBE = "83a474797065ae6d7174745f737562736372696265a5746f706963aa636861742f6c6f626279a567726f7570a96d71747467726f7570";
    private static final String PUBLISH = "82a474797065ac6d7174745f7075626c697368a77075626c69736884a5746f706963ae636861742f6c6f6262795f6f7574a77061796c6f6164a26869a3716f7302a672657461696ec2";

    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return map;
    }

    @Test
    void should_decode_and_encode_the_reference_vectors_byte_for_byte() throws Exception {
        Map<String, Object> subscribe = map("type", "mqtt_subscribe", "topic", "chat/lobby", "group", "mqttgroup");
        Map<String, Object> publish = map("type", "mqtt_publish", "publish",
                map("topic", "chat/lobby_out", "payload", "hi", "qos", 2L, "retain", false));
        assertThat(MsgPack.decode(HEX.parseHex(SUBSCRIBE), 0)).isEqualTo(subscribe);
        assertThat(MsgPack.decode(HEX.parseHex(PUBLISH), 0)).isEqualTo(publish);
        assertThat(HEX.formatHex(MsgPack.encode(subscribe))).isEqualTo(SUBSCRIBE);
        assertThat(HEX.formatHex(MsgPack.encode(publish))).isEqualTo(PUBLISH);
    }

    @Test
    void should_decode_after_the_random_prefix() throws Exception {
        byte[] member = HEX.parseHex("0102030405060708090a0b0c" + SUBSCRIBE);
        assertThat(MsgPack.decode(member, 12)).isEqualTo(map("type", "mqtt_subscribe", "topic", "chat/lobby", "group", "mqttgroup"));
    }

    @Test
    void should_use_the_smallest_forms_python_msgpack_uses() {
        assertThat(HEX.formatHex(MsgPack.encode(List.of(0, 127, 128, 255, 256, 65536, -1, -32, -33, -129, -32769, 4294967296L))))
                .isEqualTo("9c" + "00" + "7f" + "cc80" + "ccff" + "cd0100" + "ce00010000" + "ff" + "e0" + "d0df" + "d1ff7f"
                        + "d2ffff7fff" + "cf0000000100000000");
        assertThat(HEX.formatHex(MsgPack.encode(1.5))).isEqualTo("cb3ff8000000000000");
        assertThat(HEX.formatHex(MsgPack.encode(new byte[] {1, 2}))).isEqualTo("c4020102");
        assertThat(HEX.formatHex(MsgPack.encode("x".repeat(32)))).startsWith("d920");
        assertThat(HEX.formatHex(MsgPack.encode(java.util.Arrays.asList(null, true, false)))).isEqualTo("93c0c3c2");
    }

    @Test
    void should_round_trip_every_kind_of_value() throws Exception {
        Map<String, Object> value = map("nil", null, "t", true, "n", -5L, "big", Long.MAX_VALUE, "f", 2.25, "s", "ünï",
                "long", "y".repeat(70000), "list", List.of(1L, "two", List.of()), "map", map("a", map()));
        assertThat(MsgPack.decode(MsgPack.encode(value), 0)).isEqualTo(value);
        byte[] bin = (byte[]) MsgPack.decode(MsgPack.encode(new byte[300]), 0);
        assertThat(bin).hasSize(300);
    }

    @Test
    void should_refuse_what_channels_never_writes_with_the_reason() {
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("81" + "01" + "c0"), 0)).hasMessage("a msgpack map key that is not a string");
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("83a474797065"), 0)).hasMessage("the msgpack value ends early");
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("c0c0"), 0)).hasMessage("1 bytes after the msgpack value");
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("d40100"), 0)).hasMessage("msgpack type 0xd4 is not used by Channels");
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("a2c328"), 0)).hasMessage("a msgpack str that is not UTF-8");
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("c1"), 0)).hasMessage("msgpack type 0xc1 is not used by Channels");
        assertThatThrownBy(() -> MsgPack.encode(Map.of(1, 2))).hasMessage("msgpack map keys must be strings, got 1");
    }

    @Test
    void should_refuse_hostile_sizes_and_nesting_without_allocating_or_recursing_for_them() throws Exception {
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("c67fffffff00"), 0)).as("bin 32 claiming 2 GiB")
                .hasMessage("the msgpack value ends early");
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("db7fffffff61"), 0)).as("str 32 claiming 2 GiB")
                .hasMessage("the msgpack value ends early");
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("dd7fffffff"), 0)).as("array 32 of 2^31 items")
                .hasMessage("the msgpack value ends early");
        assertThatThrownBy(() -> MsgPack.decode(HEX.parseHex("91".repeat(200_000) + "c0"), 0)).as("nested 200,000 deep")
                .hasMessage("msgpack values nested deeper than " + MsgPack.MAX_DEPTH);
        assertThat(MsgPack.decode(HEX.parseHex("91".repeat(MsgPack.MAX_DEPTH) + "c0"), 0)).isNotNull();
    }
}
