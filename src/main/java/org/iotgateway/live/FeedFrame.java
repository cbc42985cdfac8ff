package org.iotgateway.live;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;

/**
 * The JSON text frame of one MQTT message, as the SPORE gateway sent it plus what it lacked:
 * {@code {"topic":"…","data":"…","timestamp":"2024-01-15T10:30:00.123Z","qos":1,"retained":false}}. {@code data} is the
 * payload as a string when it is valid UTF-8; otherwise it is base64 and {@code "encoding":"base64"} says so.
 */
public final class FeedFrame {

    // characters outside the BMP (emoji) as their UTF-8 bytes, not as \\uD83C\\uDF21 escapes
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();
    private static final DateTimeFormatter RFC_3339_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final ThreadLocal<CharsetDecoder> STRICT_UTF8 = ThreadLocal.withInitial(() -> StandardCharsets.UTF_8
            .newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT));

    private FeedFrame() {
    }

    public static byte[] encode(String topic, byte[] payload, int qos, boolean retained, long receivedAtMillis) {
        String text = utf8OrNull(payload);
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + topic.length() + 112);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            json.writeStringField("topic", topic);
            json.writeStringField("data", text != null ? text : Base64.getEncoder().encodeToString(payload));
            if (text == null) {
                json.writeStringField("encoding", "base64");
            }
            json.writeStringField("timestamp", timestamp(receivedAtMillis));
            json.writeNumberField("qos", qos);
            json.writeBooleanField("retained", retained);
            json.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** RFC 3339 in UTC with milliseconds, always the same width. */
    static String timestamp(long epochMillis) {
        return RFC_3339_MILLIS.format(Instant.ofEpochMilli(epochMillis));
    }

    private static String utf8OrNull(byte[] payload) {
        try {
            return STRICT_UTF8.get().decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
