package org.iotgateway.mqttsn;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The subscribed filters a downlink message's topic matches, by MQTT's rules. */
class FilterTreeTest {

    @Test
    void should_match_exact_names_single_level_and_multi_level_wildcards() {
        FilterTree tree = new FilterTree();
        for (String filter : new String[] {"cmd/m1/set", "cmd/+/set", "cmd/m1/#", "cmd/#", "#", "+/m1/+", "other"}) {
            assertThat(tree.add(filter)).isTrue();
        }
        assertThat(tree.add("cmd/+/set")).as("already there").isFalse();

        assertThat(tree.match("cmd/m1/set"))
                .containsExactlyInAnyOrder("cmd/m1/set", "cmd/+/set", "cmd/m1/#", "cmd/#", "#", "+/m1/+");
        assertThat(tree.match("cmd/m2/set")).containsExactlyInAnyOrder("cmd/+/set", "cmd/#", "#");
        assertThat(tree.match("cmd/m1")).as("'#' matches its parent level").containsExactlyInAnyOrder("cmd/m1/#", "cmd/#", "#");
        assertThat(tree.match("cmd")).containsExactlyInAnyOrder("cmd/#", "#");
        assertThat(tree.match("cmd/m1/set/more")).containsExactlyInAnyOrder("cmd/m1/#", "cmd/#", "#");
        assertThat(tree.match("other")).containsExactlyInAnyOrder("other", "#");
    }

    @Test
    void should_not_match_system_topics_with_a_leading_wildcard() {
        FilterTree tree = new FilterTree();
        tree.add("#");
        tree.add("+/status");
        tree.add("$SYS/#");
        assertThat(tree.match("$SYS/status")).containsExactly("$SYS/#");
    }

    @Test
    void should_forget_removed_filters_and_keep_the_others_on_the_same_path() {
        FilterTree tree = new FilterTree();
        tree.add("a/b/c");
        tree.add("a/b/#");
        tree.add("a/+/c");
        assertThat(tree.remove("a/b/c")).isTrue();
        assertThat(tree.remove("a/b/c")).as("gone already").isFalse();
        assertThat(tree.remove("a/x")).as("never there").isFalse();
        assertThat(tree.match("a/b/c")).containsExactlyInAnyOrder("a/b/#", "a/+/c");
        assertThat(tree.remove("a/b/#")).isTrue();
        assertThat(tree.match("a/b/c")).containsExactly("a/+/c");
        tree.clear();
        assertThat(tree.match("a/b/c")).isEmpty();
    }
}
