package org.iotgateway.channels;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.iotgateway.mqtt.TopicFilter;

/**
 * The messages of channels-mqtt-proxy, read and written as it does: {@code type} with {@code _} or {@code .};
 * a publish's payload as Python's {@code json.dumps} (objects, lists) or {@code str()} (numbers, booleans) writes it,
 * QoS 2 and retain true when omitted; an MQTT payload handed to Channels JSON-parsed when it parses, else as text
 * (bytes when it is not UTF-8, which the original could not pass on at all).
 */
public final class ChannelsMessages {

    // channels' own rule for group names
    private static final Pattern GROUP = Pattern.compile("[a-zA-Z\\d\\-_.]{1,99}");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS, DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ChannelsMessages() {
    }

    /** A message the worker cannot act on, with the reason. */
    public static final class BadMessageException extends Exception {
        public BadMessageException(String reason) {
            super(reason, null, false, false);
        }
    }

    /** What to publish for an {@code mqtt_publish}. */
    public record Publication(String topic, byte[] payload, int qos, boolean retain) {
    }

    /** The count of Channels messages that were not understood, wherever they were refused. */
    static Counter rejectedCounter(MeterRegistry registry) {
        return Counter.builder("channels.messages.rejected").description("Channels messages that were not understood")
                .register(registry);
    }

    /** {@code mqtt_subscribe} → {@code mqtt.subscribe}: both spellings are one type. */
    public static String type(Map<String, Object> message) throws BadMessageException {
        if (!(message.get("type") instanceof String type)) {
            throw new BadMessageException("the message has no type");
        }
        return type.replace('_', '.');
    }

    public static TopicFilter filter(Map<String, Object> message) throws BadMessageException {
        if (!(message.get("topic") instanceof String topic)) {
            throw new BadMessageException("missing key: topic");
        }
        try {
            return TopicFilter.parse(topic);
        } catch (IllegalArgumentException e) {
            throw new BadMessageException("invalid topic filter '" + topic + "': " + e.getMessage());
        }
    }

    public static String group(Map<String, Object> message) throws BadMessageException {
        if (!(message.get("group") instanceof String group)) {
            throw new BadMessageException("missing key: group");
        }
        if (!GROUP.matcher(group).matches()) {
            throw new BadMessageException("invalid group name '" + group + "': letters, digits, '-', '_' and '.', fewer than 100");
        }
        return group;
    }

    public static Publication publication(Map<String, Object> message) throws BadMessageException {
        if (!(message.get("publish") instanceof Map<?, ?> publish)) {
            throw new BadMessageException("missing key: publish");
        }
        if (!(publish.get("topic") instanceof String topic) || topic.isEmpty() || topic.contains("+") || topic.contains("#")) {
            throw new BadMessageException("publish.topic must be a topic name without wildcards, got " + publish.get("topic"));
        }
        Object qos = publish.containsKey("qos") ? publish.get("qos") : 2L;
        if (!(qos instanceof Long level) || level < 0 || level > 2) {
            throw new BadMessageException("publish.qos must be 0, 1 or 2, got " + qos);
        }
        Object retain = publish.containsKey("retain") ? publish.get("retain") : Boolean.TRUE;
        if (!(retain instanceof Boolean flag)) {
            throw new BadMessageException("publish.retain must be true or false, got " + retain);
        }
        return new Publication(topic, payload(publish.get("payload")), level.intValue(), flag);
    }

    private static byte[] payload(Object payload) throws BadMessageException {
        if (payload == null) {
            return new byte[0];
        }
        if (payload instanceof byte[] bytes) {
            return bytes;
        }
        if (payload instanceof String text) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        StringBuilder text = new StringBuilder();
        if (payload instanceof Map<?, ?> || payload instanceof List<?>) {
            writePythonJson(text, payload);
        } else {
            writeScalar(text, payload, "True", "False");
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Python's json.dumps with its defaults: ", " and ": " separators, non-ASCII as \\uXXXX. */
    private static void writePythonJson(StringBuilder out, Object value) throws BadMessageException {
        if (value instanceof Map<?, ?> map) {
            out.append('{');
            Iterator<? extends Map.Entry<?, ?>> entries = map.entrySet().iterator();
            while (entries.hasNext()) {
                Map.Entry<?, ?> entry = entries.next();
                writeString(out, (String) entry.getKey());
                out.append(": ");
                writePythonJson(out, entry.getValue());
                if (entries.hasNext()) {
                    out.append(", ");
                }
            }
            out.append('}');
        } else if (value instanceof List<?> list) {
            out.append('[');
            for (int i = 0; i < list.size(); i++) {
                if (i > 0) {
                    out.append(", ");
                }
                writePythonJson(out, list.get(i));
            }
            out.append(']');
        } else if (value instanceof String text) {
            writeString(out, text);
        } else if (value == null) {
            out.append("null");
        } else if (value instanceof byte[]) {
            throw new BadMessageException("publish.payload holds bytes inside an object or list, which JSON cannot carry");
        } else {
            writeScalar(out, value, "true", "false");
        }
    }

    private static void writeScalar(StringBuilder out, Object value, String trueText, String falseText) {
        if (value instanceof Boolean flag) {
            out.append(flag ? trueText : falseText);
        } else if (value instanceof Double number) {
            out.append(pythonFloat(number));
        } else {
            out.append(value);
        }
    }

    /** Python's repr of a float: 1.0, 0.1, 1e+20, inf. */
    private static String pythonFloat(double number) {
        if (Double.isNaN(number)) {
            return "NaN";
        }
        if (Double.isInfinite(number)) {
            return number > 0 ? "Infinity" : "-Infinity";
        }
        String java = Double.toString(number);
        int exponent = java.indexOf('E');
        if (exponent < 0) {
            return java;
        }
        BigDecimal exact = new BigDecimal(java);
        if (Math.abs(number) >= 1e-4 && Math.abs(number) < 1e16) {
            String plain = exact.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String mantissa = java.substring(0, exponent).replaceAll("\\.0$", "");
        int power = Integer.parseInt(java.substring(exponent + 1));
        return mantissa + "e" + (power < 0 ? "-" : "+") + String.format("%02d", Math.abs(power));
    }

    private static void writeString(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** The event each matching group receives: {"type":"mqtt.message","message":{topic, payload, qos, retain}}. */
    public static Map<String, Object> event(String topic, byte[] payload, int qos, boolean retain) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("topic", topic);
        message.put("payload", decodedPayload(payload));
        message.put("qos", (long) qos);
        message.put("retain", retain);
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("type", "mqtt.message");
        event.put("message", message);
        return event;
    }

    private static Object decodedPayload(byte[] payload) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            return payload;
        }
        try {
            JsonNode json = JSON.readTree(text);
            return json == null || json.isMissingNode() ? text : plain(json);
        } catch (JsonProcessingException notJson) {
            return text;
        }
    }

    private static Object plain(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.fields().forEachRemaining(field -> map.put(field.getKey(), plain(field.getValue())));
            return map;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>();
            node.forEach(item -> list.add(plain(item)));
            return list;
        }
        if (node.isIntegralNumber()) {
            return node.canConvertToLong() ? (Object) node.longValue() : (Object) node.doubleValue();
        }
        if (node.isNumber()) {
            return node.doubleValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        return node.isNull() ? null : node.asText();
    }
}
