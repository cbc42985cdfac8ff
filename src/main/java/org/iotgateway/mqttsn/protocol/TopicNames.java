package org.iotgateway.mqttsn.protocol;

import java.nio.charset.StandardCharsets;

/** Topic name helpers of the protocol. */
public final class TopicNames {

    /** The largest usable topic id (0x0000 and 0xFFFF are reserved), and so the most topics a client can register. */
    public static final int MAX_TOPIC_ID = 0xFFFE;

    private TopicNames() {
    }

    /** The two-character name carried in the TopicId field of a short-topic PUBLISH. */
    public static String shortName(int topicId) {
        char first = (char) (topicId >>> 8);
        char second = (char) (topicId & 0xFF);
        return second == 0 ? String.valueOf(first) : new String(new char[] {first, second});
    }

    /**
     * Why a client may not publish to this topic name, or null when it may: MQTT-SN 1.2 topic names carry no
     * wildcard ({@code +}, {@code #}), and MQTT's none is empty or holds U+0000; {@code maxBytes} bounds its UTF-8 length.
     */
    public static String refusal(String topicName, int maxBytes) {
        if (topicName.isEmpty()) {
            return "the topic name is empty";
        }
        for (int i = 0; i < topicName.length(); i++) {
            char c = topicName.charAt(i);
            if (c == '+' || c == '#') {
                return "the topic name holds the wildcard '" + c + "'";
            }
            if (c == 0) {
                return "the topic name holds U+0000";
            }
        }
        if (topicName.length() > maxBytes / 3 && topicName.getBytes(StandardCharsets.UTF_8).length > maxBytes) {
            return "the topic name is longer than " + maxBytes + " bytes";
        }
        return null;
    }

    public static boolean isValidTopicId(int topicId) {
        return topicId != 0x0000 && topicId != 0xFFFF;
    }
}
