package org.iotgateway.live;

import java.nio.charset.StandardCharsets;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The JSON of one message, the wire bytes of its WebSocket frame, and the requests browsers send. */
class FeedFrameTest {

    private static final long AT = 1705314600123L; // 2024-01-15T10:30:00.123Z

    private static String json(String topic, byte[] payload, int qos, boolean retained) {
        return new String(FeedFrame.encode(topic, payload, qos, retained, AT), StandardCharsets.UTF_8);
    }

    @Test
    void should_encode_the_spore_fields_then_qos_and_retained() {
        assertThat(json("sensor/temperature", "23.5".getBytes(StandardCharsets.UTF_8), 1, false))
                .isEqualTo("{\"topic\":\"sensor/temperature\",\"data\":\"23.5\",\"timestamp\":\"2024-01-15T10:30:00.123Z\",\"qos\":1,\"retained\":false}");
    }

    @Test
    void should_send_utf8_text_as_is_and_other_bytes_as_base64() {
        assertThat(json("t", "🌡 Grüße".getBytes(StandardCharsets.UTF_8), 0, true))
                .isEqualTo("{\"topic\":\"t\",\"data\":\"🌡 Grüße\",\"timestamp\":\"2024-01-15T10:30:00.123Z\",\"qos\":0,\"retained\":true}");
        assertThat(json("t", new byte[] {(byte) 0xC3, 0x28}, 2, false))
                .isEqualTo("{\"topic\":\"t\",\"data\":\"wyg=\",\"encoding\":\"base64\",\"timestamp\":\"2024-01-15T10:30:00.123Z\",\"qos\":2,\"retained\":false}");
        // an encoded surrogate (CESU-8) is not UTF-8
        assertThat(json("t", new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, 0, false)).contains("\"encoding\":\"base64\"");
    }

    @Test
    void should_keep_the_timestamp_width_fixed() {
        assertThat(FeedFrame.timestamp(1705314600000L)).isEqualTo("2024-01-15T10:30:00.000Z");
    }

    @Test
    void should_frame_text_unmasked_with_the_shortest_length_field() {
        assertThat(frameHex(new byte[] {'h', 'i'})).isEqualTo("81026869");
        assertThat(frameHex(new byte[126]).substring(0, 8)).isEqualTo("817e007e");
        assertThat(frameHex(new byte[65536]).substring(0, 20)).isEqualTo("817f0000000000010000");
    }

    private static String frameHex(byte[] payload) {
        ByteBuf frame = WebSocketFrames.text(UnpooledByteBufAllocator.DEFAULT, payload);
        try {
            return ByteBufUtil.hexDump(frame);
        } finally {
            frame.release();
        }
    }

    @Test
    void should_read_browser_requests_and_name_what_is_wrong() throws Exception {
        ClientRequest.Publish publish = (ClientRequest.Publish) ClientRequest.parse(
                "{\"id\":1,\"publish\":{\"topic\":\"lamp\",\"payload\":\"AQI=\",\"encoding\":\"base64\",\"qos\":1,\"retain\":true}}");
        assertThat(publish.payload()).containsExactly(1, 2);
        assertThat(publish.qos()).isEqualTo(1);
        assertThat(publish.retain()).isTrue();
        assertThat(((ClientRequest.Publish) ClientRequest.parse("{\"publish\":{\"topic\":\"t\",\"payload\":{\"on\":true}}}")).payload())
                .asString(StandardCharsets.UTF_8).isEqualTo("{\"on\":true}");
        assertThat(((ClientRequest.Subscribe) ClientRequest.parse("{\"subscribe\":\"a/#\"}")).filters()).hasSize(1);
        assertThatThrownBy(() -> ClientRequest.parse("[1]")).hasMessage("a request is a JSON object with one of subscribe, unsubscribe, publish, status");
        assertThat(((ClientRequest.Status) ClientRequest.parse("{\"id\":2,\"status\":true}")).watch()).isTrue();
        assertThat(((ClientRequest.Status) ClientRequest.parse("{\"status\":false}")).watch()).isFalse();
        assertThatThrownBy(() -> ClientRequest.parse("{\"subscribe\":[]}")).hasMessage("subscribe: no topic filter given");
        assertThatThrownBy(() -> ClientRequest.parse("{\"subscribe\":[1]}")).hasMessage("subscribe: topic filters are strings, got 1");
        assertThatThrownBy(() -> ClientRequest.parse("{\"publish\":{\"payload\":\"x\"}}")).hasMessage("publish: topic is missing or not a string");
        assertThatThrownBy(() -> ClientRequest.parse("{\"publish\":{\"topic\":\"t\",\"retain\":\"yes\"}}")).hasMessage("publish: retain must be true or false, got \"yes\"");
        assertThatThrownBy(() -> ClientRequest.parse("{\"publish\":{\"topic\":\"t\",\"payload\":\"@@\",\"encoding\":\"base64\"}}"))
                .hasMessageStartingWith("publish: payload is not base64");
    }
}
