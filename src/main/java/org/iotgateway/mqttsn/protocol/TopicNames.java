package org.iotgateway.mqttsn.protocol;

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

    public static boolean isValidTopicId(int topicId) {
        return topicId != 0x0000 && topicId != 0xFFFF;
    }
}
