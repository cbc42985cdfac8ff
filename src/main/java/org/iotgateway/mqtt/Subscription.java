package org.iotgateway.mqtt;

import java.util.ArrayList;
import java.util.List;

/** A topic filter with the maximum QoS asked of the broker for it. */
public record Subscription(TopicFilter filter, int qos) {

    public Subscription {
        if (qos < 0 || qos > 2) {
            throw new IllegalArgumentException("QoS " + qos + " of '" + filter + "' is not 0, 1 or 2");
        }
    }

    /**
     * Parses a comma-separated list of filters, each optionally ending in {@code @0}, {@code @1} or {@code @2} for its
     * QoS: {@code sensor/#@1,device/+/status@2,#}. Filters without a suffix get {@code defaultQos}.
     *
     * @throws IllegalArgumentException naming the entry that is wrong
     */
    public static List<Subscription> parseList(String text, int defaultQos) {
        return parseList(text, defaultQos, null);
    }

    /** The same, each filter subscribed as {@code $share/<shareGroup>/<filter>} unless the group is null or blank. */
    public static List<Subscription> parseList(String text, int defaultQos, String shareGroup) {
        List<Subscription> subscriptions = new ArrayList<>();
        for (String entry : text.split(",")) {
            String trimmed = entry.strip();
            if (trimmed.isEmpty()) {
                continue;
            }
            int qos = defaultQos;
            int at = trimmed.length() - 2;
            if (at > 0 && trimmed.charAt(at) == '@' && "012".indexOf(trimmed.charAt(at + 1)) >= 0) {
                qos = trimmed.charAt(at + 1) - '0';
                trimmed = trimmed.substring(0, at);
            }
            subscriptions.add(new Subscription(TopicFilter.parse(trimmed, shareGroup), qos));
        }
        if (subscriptions.isEmpty()) {
            throw new IllegalArgumentException("no topic filter in '" + text + "'");
        }
        return List.copyOf(subscriptions);
    }
}
