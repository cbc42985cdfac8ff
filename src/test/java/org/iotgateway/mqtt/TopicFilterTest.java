package org.iotgateway.mqtt;

import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** MQTT 5.0 §4.7 topic filters, and the list syntax of live.topics. */
class TopicFilterTest {

    @Test
    void should_match_as_the_mqtt_specification_says() {
        assertThat(TopicFilter.parse("sport/tennis/player1/#").matches("sport/tennis/player1")).isTrue();
        assertThat(TopicFilter.parse("sport/tennis/player1/#").matches("sport/tennis/player1/ranking")).isTrue();
        assertThat(TopicFilter.parse("sport/tennis/player1/#").matches("sport/tennis/player1/score/wimbledon")).isTrue();
        assertThat(TopicFilter.parse("sport/#").matches("sport")).isTrue();
        assertThat(TopicFilter.parse("#").matches("any/thing")).isTrue();
        assertThat(TopicFilter.parse("sport/tennis/+").matches("sport/tennis/player1")).isTrue();
        assertThat(TopicFilter.parse("sport/tennis/+").matches("sport/tennis/player1/ranking")).isFalse();
        assertThat(TopicFilter.parse("sport/+").matches("sport")).isFalse();
        assertThat(TopicFilter.parse("sport/+").matches("sport/")).isTrue();
        assertThat(TopicFilter.parse("+/+").matches("/finance")).isTrue();
        assertThat(TopicFilter.parse("/+").matches("/finance")).isTrue();
        assertThat(TopicFilter.parse("+").matches("/finance")).isFalse();
        assertThat(TopicFilter.parse("a/b").matches("a/bc")).isFalse();
        assertThat(TopicFilter.parse("capteurs/température").matches("capteurs/température")).isTrue();
    }

    @Test
    void should_not_match_dollar_topics_with_a_leading_wildcard() {
        assertThat(TopicFilter.parse("#").matches("$SYS/broker/uptime")).isFalse();
        assertThat(TopicFilter.parse("+/monitor/Clients").matches("$SYS/monitor/Clients")).isFalse();
        assertThat(TopicFilter.parse("$SYS/#").matches("$SYS/monitor/Clients")).isTrue();
    }

    @Test
    void should_match_shared_subscriptions_by_their_filter() {
        assertThat(TopicFilter.parse("$share/feed/sensor/#").matches("sensor/t1")).isTrue();
        assertThatThrownBy(() -> TopicFilter.parse("$share//x")).hasMessageContaining("shared subscription");
        assertThat(TopicFilter.parse("/oneM2M/req/+/cse/#", "binding")).hasToString("$share/binding//oneM2M/req/+/cse/#");
        assertThat(TopicFilter.parse("/oneM2M/req/+/cse/#", "binding").matches("/oneM2M/req/CAE1/cse/json")).isTrue();
        assertThat(TopicFilter.parse("sensor/#", " ")).hasToString("sensor/#");
        assertThatThrownBy(() -> TopicFilter.parse("sensor/#", "a/b")).hasMessage("share group 'a/b' contains '/', '+' or '#'");
    }

    @Test
    void should_reject_invalid_filters_with_the_rule_they_break() {
        assertThatThrownBy(() -> TopicFilter.parse("sport/tennis#")).hasMessage("'sport/tennis#': '#' must be a whole level and the last one");
        assertThatThrownBy(() -> TopicFilter.parse("sport/#/ranking")).hasMessage("'sport/#/ranking': '#' must be a whole level and the last one");
        assertThatThrownBy(() -> TopicFilter.parse("sport+")).hasMessage("'sport+': '+' must be a whole level");
        assertThatThrownBy(() -> TopicFilter.parse("")).hasMessage("the topic filter is empty");
        assertThatThrownBy(() -> TopicFilter.parse("a\u0000b")).hasMessage("the topic filter contains the character U+0000");
        assertThatThrownBy(() -> TopicFilter.checkTopicName("a/+")).hasMessage("'a/+': a topic name cannot contain the wildcards + or #");
    }

    @Test
    void should_reject_what_paho_would_refuse_on_its_sender_thread_before_it_gets_there() {
        assertThatThrownBy(() -> TopicFilter.checkTopicName("a\u0010b")).hasMessage("the topic contains the control character U+0010");
        assertThatThrownBy(() -> TopicFilter.checkTopicName("a\u0085")).hasMessage("the topic contains the control character U+0085");
        assertThatThrownBy(() -> TopicFilter.checkTopicName("a\ud800b")).hasMessage("the topic contains half of a UTF-16 surrogate pair");
        assertThatThrownBy(() -> TopicFilter.parse("a/\uffff")).hasMessage("the topic filter contains the noncharacter U+FFFF");
        assertThat(TopicFilter.checkTopicName("m\u00e8ter/\ud83d\ude00/\u4e2d")).as("any other character").isNotNull();
    }

    @Test
    void should_read_a_filter_list_with_qos_suffixes() {
        assertThat(Subscription.parseList("sensor/#@1, device/+/status@2,#", 0)).containsExactly(
                new Subscription(TopicFilter.parse("sensor/#"), 1),
                new Subscription(TopicFilter.parse("device/+/status"), 2),
                new Subscription(TopicFilter.parse("#"), 0));
        assertThat(Subscription.parseList("mail@example", 1)).containsExactly(new Subscription(TopicFilter.parse("mail@example"), 1));
        assertThatThrownBy(() -> Subscription.parseList(" , ", 1)).hasMessage("no topic filter in ' , '");
        assertThatThrownBy(() -> Subscription.parseList("a/#/b@1", 1)).hasMessageContaining("'#' must be a whole level");
    }

    @Test
    void should_turn_user_broker_urls_into_paho_ones() {
        assertThat(List.of("tcp://broker", "mqtt://broker:1884", "tls://broker", "ssl://broker:8884", "mqtts://broker")
                .stream().map(BrokerUrl::toPaho)).containsExactly("tcp://broker:1883", "tcp://broker:1884",
                "ssl://broker:8883", "ssl://broker:8884", "ssl://broker:8883");
        assertThatThrownBy(() -> BrokerUrl.toPaho("http://broker")).hasMessageContaining("must start with tcp://");
        assertThatThrownBy(() -> BrokerUrl.toPaho("tcp://user:secret@broker")).hasMessageNotContaining("secret")
                .hasMessageContaining("carries credentials");
    }
}
