package org.iotgateway.rabbitmq;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** MQTTSN_AMQP_CONNECTION_STRING is read by kombu's rules, which the RabbitMQ Java client does not follow. */
class AmqpUrlTest {

    @Test
    void should_read_the_python_gateways_default_with_double_slash_as_vhost_slash() {
        assertThat(AmqpUrl.parse("amqp://guest:guest@localhost:5672//"))
                .isEqualTo(new AmqpUrl(false, "localhost", 5672, "/", "guest", "guest"));
    }

    @Test
    void should_take_no_path_single_slash_and_percent_2F_as_vhost_slash() {
        assertThat(AmqpUrl.parse("amqp://u:p@h").virtualHost()).isEqualTo("/");
        assertThat(AmqpUrl.parse("amqp://u:p@h/").virtualHost()).isEqualTo("/");
        assertThat(AmqpUrl.parse("amqp://u:p@h/%2F").virtualHost()).isEqualTo("/");
    }

    @Test
    void should_read_a_named_vhost_escaped_credentials_tls_and_default_ports() {
        AmqpUrl url = AmqpUrl.parse("amqps://meter%40ingest:s%3Acret+x@rabbit.example/metering");
        assertThat(url).isEqualTo(new AmqpUrl(true, "rabbit.example", 5671, "metering", "meter@ingest", "s:cret+x"));
        assertThat(url.toString()).doesNotContain("s:cret");
        assertThat(AmqpUrl.parse("pyamqp://h").port()).isEqualTo(5672);
    }

    @Test
    void should_reject_other_schemes_with_the_reason() {
        assertThatThrownBy(() -> AmqpUrl.parse("redis://localhost")).hasMessageContaining("amqp://");
    }
}
