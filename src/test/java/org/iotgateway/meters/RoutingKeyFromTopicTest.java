package org.iotgateway.meters;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RoutingKeyFromTopicTest {

    @Test
    void should_turn_topic_levels_into_routing_key_words_as_the_python_gateway_did() {
        assertThat(RoutingKeyFromTopic.routingKey("mr/94193A04010020B8/standard/json"))
                .isEqualTo("mr.94193A04010020B8.standard.json");
    }

    @Test
    void should_turn_the_single_level_wildcard_into_a_star_and_keep_everything_else() {
        assertThat(RoutingKeyFromTopic.routingKey("a/+/b#c")).isEqualTo("a.*.b#c");
        assertThat(RoutingKeyFromTopic.routingKey("")).isEmpty();
    }

    @Test
    void should_turn_a_routing_key_back_into_the_topic_it_came_from() {
        assertThat(TopicFromRoutingKey.topic("mr.94193A04010020B8.standard.json")).isEqualTo("mr/94193A04010020B8/standard/json");
        assertThat(TopicFromRoutingKey.topic(RoutingKeyFromTopic.routingKey("cmd/meter-7/valve"))).isEqualTo("cmd/meter-7/valve");
    }
}
