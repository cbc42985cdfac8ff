package org.iotgateway.mqtt;

import java.nio.charset.StandardCharsets;

/**
 * An MQTT topic filter (MQTT 5.0 §4.7), checked once and then matched against topic names without allocating.
 * {@code $share/<group>/} prefixes are kept for subscribing and ignored for matching.
 */
public final class TopicFilter {

    private static final int MAX_UTF8_BYTES = 65535;

    private final String text;
    private final String[] levels;
    private final boolean startsWithWildcard;

    private TopicFilter(String text, String[] levels) {
        this.text = text;
        this.levels = levels;
        this.startsWithWildcard = levels[0].equals("#") || levels[0].equals("+");
    }

    /**
     * {@code filter} subscribed as an MQTT 5 shared subscription of {@code shareGroup} ({@code $share/<group>/<filter>}),
     * or as it is when the group is null or blank.
     *
     * @throws IllegalArgumentException with the rule the group or the filter breaks
     */
    public static TopicFilter parse(String filter, String shareGroup) {
        if (shareGroup == null || shareGroup.isBlank()) {
            return parse(filter);
        }
        String group = shareGroup.strip();
        if (group.contains("/") || group.contains("+") || group.contains("#")) {
            throw new IllegalArgumentException("share group '" + group + "' contains '/', '+' or '#'");
        }
        return parse("$share/" + group + "/" + filter);
    }

    /** @throws IllegalArgumentException with the rule the filter breaks */
    public static TopicFilter parse(String text) {
        checkString(text, "topic filter");
        String matched = text;
        if (text.startsWith("$share/")) {
            int groupEnd = text.indexOf('/', 7);
            if (groupEnd <= 7 || groupEnd == text.length() - 1) {
                throw new IllegalArgumentException("'" + text + "' is not a valid shared subscription ($share/<group>/<filter>)");
            }
            matched = text.substring(groupEnd + 1);
        }
        String[] levels = matched.split("/", -1);
        for (int i = 0; i < levels.length; i++) {
            String level = levels[i];
            if (level.contains("#") && (!level.equals("#") || i != levels.length - 1)) {
                throw new IllegalArgumentException("'" + text + "': '#' must be a whole level and the last one");
            }
            if (level.contains("+") && !level.equals("+")) {
                throw new IllegalArgumentException("'" + text + "': '+' must be a whole level");
            }
        }
        return new TopicFilter(text, levels);
    }

    /** @throws IllegalArgumentException when {@code topic} cannot be published to */
    public static String checkTopicName(String topic) {
        checkString(topic, "topic");
        if (topic.indexOf('#') >= 0 || topic.indexOf('+') >= 0) {
            throw new IllegalArgumentException("'" + topic + "': a topic name cannot contain the wildcards + or #");
        }
        return topic;
    }

    private static void checkString(String text, String what) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("the " + what + " is empty");
        }
        if (text.indexOf('\u0000') >= 0) {
            throw new IllegalArgumentException("the " + what + " contains the character U+0000");
        }
        // what MQTT says a string should not hold, and Paho refuses while writing the packet: on its sender thread, where
        // the refusal costs the whole connection rather than this one message
        for (int i = 0; i < text.length(); ) {
            int codePoint = text.codePointAt(i);
            if (Character.isISOControl(codePoint)) {
                throw new IllegalArgumentException(String.format("the %s contains the control character U+%04X", what, codePoint));
            }
            if (Character.isSurrogate(text.charAt(i)) && Character.charCount(codePoint) == 1) {
                throw new IllegalArgumentException("the " + what + " contains half of a UTF-16 surrogate pair");
            }
            if ((codePoint & 0xFFFE) == 0xFFFE) {
                throw new IllegalArgumentException(String.format("the %s contains the noncharacter U+%04X", what, codePoint));
            }
            i += Character.charCount(codePoint);
        }
        if (text.getBytes(StandardCharsets.UTF_8).length > MAX_UTF8_BYTES) {
            throw new IllegalArgumentException("the " + what + " is longer than 65535 bytes");
        }
    }

    public boolean matches(String topic) {
        // MQTT 5.0 §4.7.2: a filter starting with a wildcard does not match topics starting with '$'
        if (startsWithWildcard && topic.startsWith("$")) {
            return false;
        }
        int length = topic.length();
        int position = 0;
        for (String level : levels) {
            if (level.equals("#")) {
                return true;
            }
            if (position > length) {
                return false;
            }
            int end = topic.indexOf('/', position);
            if (end < 0) {
                end = length;
            }
            boolean same = end - position == level.length() && topic.regionMatches(position, level, 0, level.length());
            if (!same && !level.equals("+")) {
                return false;
            }
            position = end + 1;
        }
        return position == length + 1;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TopicFilter filter && filter.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
