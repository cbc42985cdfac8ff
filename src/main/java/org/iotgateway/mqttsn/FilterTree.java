package org.iotgateway.mqttsn;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The topic filters devices subscribed to, as a tree of topic levels, so that a downlink message finds the filters
 * matching its topic in a few steps whatever the number of filters (one per device is common: {@code cmd/<device>/#}).
 * MQTT matching: {@code +} matches one level, a trailing {@code #} the parent level and any below. Not thread-safe:
 * callers synchronize.
 */
final class FilterTree {

    private final Node root = new Node();

    private static final class Node {
        final Map<String, Node> children = new HashMap<>();
        /** The filter ending at this node, or null. */
        String filter;
        /** The filter ending in '#' below this node ({@code this/#}), or null. */
        String multiLevel;

        boolean isEmpty() {
            return filter == null && multiLevel == null && children.isEmpty();
        }
    }

    void clear() {
        root.children.clear();
        root.filter = null;
        root.multiLevel = null;
    }

    /** Adds a filter; false when it was there already. */
    boolean add(String filter) {
        String[] levels = filter.split("/", -1);
        Node node = root;
        int last = levels.length - 1;
        for (int i = 0; i < last; i++) {
            node = node.children.computeIfAbsent(levels[i], key -> new Node());
        }
        boolean added;
        if (levels[last].equals("#")) {
            added = node.multiLevel == null;
            node.multiLevel = filter;
        } else {
            node = node.children.computeIfAbsent(levels[last], key -> new Node());
            added = node.filter == null;
            node.filter = filter;
        }
        return added;
    }

    /** Removes a filter; false when it was not there. */
    boolean remove(String filter) {
        String[] levels = filter.split("/", -1);
        List<Node> path = new ArrayList<>(levels.length + 1);
        Node node = root;
        path.add(node);
        int last = levels.length - 1;
        boolean multiLevel = levels[last].equals("#");
        int walk = multiLevel ? last : levels.length;
        for (int i = 0; i < walk; i++) {
            node = node.children.get(levels[i]);
            if (node == null) {
                return false;
            }
            path.add(node);
        }
        if (multiLevel ? node.multiLevel == null : node.filter == null) {
            return false;
        }
        if (multiLevel) {
            node.multiLevel = null;
        } else {
            node.filter = null;
        }
        // prune the levels left empty, deepest first
        for (int i = path.size() - 1; i > 0 && path.get(i).isEmpty(); i--) {
            path.get(i - 1).children.remove(levels[i - 1]);
        }
        return true;
    }

    /** The filters matching a topic name. */
    List<String> match(String topic) {
        List<String> found = new ArrayList<>(2);
        // filters starting with a wildcard do not match topics starting with '$' (MQTT 4.7.2)
        boolean system = topic.startsWith("$");
        match(root, topic.split("/", -1), 0, found, system);
        return found;
    }

    private static void match(Node node, String[] levels, int depth, List<String> found, boolean system) {
        boolean wildcardsAllowed = !(system && depth == 0);
        if (node.multiLevel != null && wildcardsAllowed) {
            found.add(node.multiLevel);
        }
        if (depth == levels.length) {
            if (node.filter != null) {
                found.add(node.filter);
            }
            return;
        }
        Node exact = node.children.get(levels[depth]);
        if (exact != null) {
            match(exact, levels, depth + 1, found, system);
        }
        Node single = wildcardsAllowed ? node.children.get("+") : null;
        if (single != null && !levels[depth].equals("+")) {
            match(single, levels, depth + 1, found, system);
        }
    }
}
