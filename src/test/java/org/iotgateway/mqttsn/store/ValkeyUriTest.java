package org.iotgateway.mqttsn.store;

import io.lettuce.core.RedisURI;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** MQTTSN_VALKEY_CONNECTION_STRING accepts valkey:// and valkeys://, which Java Redis clients reject. */
class ValkeyUriTest {

    @Test
    void should_read_valkey_scheme_as_redis_with_database() {
        RedisURI uri = ValkeyUri.parse("valkey://localhost:6379/0");
        assertThat(uri.getHost()).isEqualTo("localhost");
        assertThat(uri.getPort()).isEqualTo(6379);
        assertThat(uri.getDatabase()).isZero();
        assertThat(uri.isSsl()).isFalse();
    }

    @Test
    void should_read_valkeys_as_tls_with_password() {
        RedisURI uri = ValkeyUri.parse("valkeys://:secret@cache.example:6380/2");
        assertThat(uri.isSsl()).isTrue();
        assertThat(uri.getPassword()).containsExactly("secret".toCharArray());
        assertThat(uri.getDatabase()).isEqualTo(2);
    }

    @Test
    void should_pass_redis_urls_through() {
        assertThat(ValkeyUri.parse("redis://h:7000").getPort()).isEqualTo(7000);
    }
}
