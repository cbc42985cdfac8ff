package org.iotgateway;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** .env files as the Python gateway reads them (python-dotenv's format). */
class EnvFilesTest {

    @Test
    void should_read_plain_exported_quoted_and_commented_lines() {
        Map<String, String> variables = EnvFiles.parse(List.of(
                "# settings",
                "",
                "MQTTSN_PORT=2884",
                "export MQTTSN_AMQP_CONNECTION_STRING=amqp://u:p@rabbit:5672//",
                "MQTTSN_VALKEY_CONNECTION_STRING='valkey://cache:6379/0'   ",
                "MQTTSN_PREDEFINED_TOPICS=\"1=a/b,2=c # not a comment\"",
                "MQTTSN_SENTRY_DSN=https://key@sentry/1 # the DSN",
                "EMPTY="), ".env");
        assertThat(variables).containsExactly(
                Map.entry("MQTTSN_PORT", "2884"),
                Map.entry("MQTTSN_AMQP_CONNECTION_STRING", "amqp://u:p@rabbit:5672//"),
                Map.entry("MQTTSN_VALKEY_CONNECTION_STRING", "valkey://cache:6379/0"),
                Map.entry("MQTTSN_PREDEFINED_TOPICS", "1=a/b,2=c # not a comment"),
                Map.entry("MQTTSN_SENTRY_DSN", "https://key@sentry/1"),
                Map.entry("EMPTY", ""));
    }

    @Test
    void should_refuse_a_line_that_is_not_a_setting_with_its_line_number() {
        assertThatThrownBy(() -> EnvFiles.parse(List.of("A=1", "just words"), "/etc/gw.env"))
                .hasMessage("/etc/gw.env line 2: expected NAME=value");
        assertThatThrownBy(() -> EnvFiles.parse(List.of("A=\"open"), ".env"))
                .hasMessage(".env line 1: the value's \" is not closed");
    }

    @Test
    void should_name_the_variables_only_the_environment_sets() {
        assertThat(EnvFiles.ENVIRONMENT_ONLY)
                .containsExactly("MQTTSN_ENV_FILE", "MQTTSN_NO_ENV_FILES", "MQTTSN_DEBUG", "MQTTSN_JSON_LOGS");
    }
}
