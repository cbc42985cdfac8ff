package org.iotgateway.rabbitmq;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * MQTTSN_AMQP_CONNECTION_STRING is read by kombu's rules, which the RabbitMQ Java client does not follow, with kombu's
 * failover list and the TLS arguments of RabbitMQ's URI specification.
 */
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
        assertThat(AmqpUrl.parse("pyamqp://h").addresses().get(0).getPort()).isEqualTo(5672);
    }

    @Test
    void should_reject_other_schemes_with_the_reason() {
        assertThatThrownBy(() -> AmqpUrl.parse("redis://localhost")).hasMessageContaining("amqp://");
    }

    @Test
    void should_read_kombus_semicolon_failover_list_as_the_nodes_of_one_cluster() {
        AmqpUrl url = AmqpUrl.parse("amqp://meters:pw@rabbit-0:5672//;amqp://meters:pw@rabbit-1:5673//; amqp://meters:pw@rabbit-2//");
        assertThat(url.addressList()).isEqualTo("rabbit-0:5672,rabbit-1:5673,rabbit-2:5672");
        assertThat(url.virtualHost()).isEqualTo("/");
        assertThat(url.toString()).isEqualTo("amqp://meters@rabbit-0:5672,rabbit-1:5673,rabbit-2:5672 vhost /");
        assertThatThrownBy(() -> AmqpUrl.parse("amqp://a:pw@rabbit-0//;amqp://b:pw@rabbit-1//"))
                .hasMessageContaining("differ in scheme, user, password, vhost or TLS arguments");
    }

    @Test
    void should_take_rabbitmq_uri_tls_arguments_only_with_amqps_and_refuse_unknown_ones() {
        AmqpUrl url = AmqpUrl.parse("amqps://h//?cacertfile=/etc/ca.pem&certfile=/etc/gw.pem&keyfile=/etc/gw.key");
        assertThat(url.tlsArguments()).containsOnly(java.util.Map.entry("cacertfile", "/etc/ca.pem"),
                java.util.Map.entry("certfile", "/etc/gw.pem"), java.util.Map.entry("keyfile", "/etc/gw.key"));
        assertThatThrownBy(() -> AmqpUrl.parse("amqp://h//?cacertfile=/etc/ca.pem")).hasMessageContaining("use amqps://");
        assertThatThrownBy(() -> AmqpUrl.parse("amqps://h//?heartbeat=10")).hasMessageContaining("Unknown AMQP URL argument 'heartbeat'");
    }
}
