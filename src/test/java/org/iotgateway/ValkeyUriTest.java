package org.iotgateway;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

/**
 * The store's and the Channels layer's connection strings: valkey:// and valkeys:// (which Java Redis clients reject),
 * redis-py's TLS arguments, Sentinel URLs and channels_redis's Sentinel hosts entry.
 */
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

    @Test
    void should_read_a_sentinel_url_with_its_sentinels_master_and_database() {
        RedisURI uri = ValkeyUri.parse("valkey-sentinel://:pw@s1:26379,s2:26380/3#meters");
        assertThat(uri.getSentinelMasterId()).isEqualTo("meters");
        assertThat(uri.getSentinels()).extracting(RedisURI::getHost, RedisURI::getPort)
                .containsExactly(tuple("s1", 26379), tuple("s2", 26380));
        assertThat(uri.getDatabase()).isEqualTo(3);
        assertThat(uri.getPassword()).containsExactly("pw".toCharArray());
        assertThat(ValkeyUri.describe(uri)).isEqualTo("master 'meters' of the sentinels s1:26379,s2:26380").doesNotContain("pw");
    }

    @Test
    void should_read_channels_redis_sentinel_hosts_entry_as_the_django_settings_write_it() {
        RedisURI uri = ValkeyUri.parse("{'sentinels': [('10.0.0.5', 26379), ('10.0.0.6', 26379)], 'master_name': 'mymaster',"
                + " 'db': 1, 'password': 'secret', 'sentinel_kwargs': {'password': 'sentinel-secret'}}");
        assertThat(uri.getSentinelMasterId()).isEqualTo("mymaster");
        assertThat(uri.getSentinels()).extracting(RedisURI::getHost).containsExactly("10.0.0.5", "10.0.0.6");
        assertThat(uri.getSentinels().get(0).getPassword()).containsExactly("sentinel-secret".toCharArray());
        assertThat(uri.getPassword()).containsExactly("secret".toCharArray());
        assertThat(uri.getDatabase()).isEqualTo(1);
    }

    @Test
    void should_take_redis_py_tls_arguments_out_of_the_url_and_check_them() {
        RedisURI uri = ValkeyUri.parse("rediss://cache:6380/0?ssl_cert_reqs=none&timeout=5s");
        assertThat(uri.getVerifyMode()).isEqualTo(SslVerifyMode.NONE);
        assertThat(uri.getTimeout()).hasSeconds(5);
        assertThat(ValkeyUri.parse("valkeys://cache:6380/0?ssl_check_hostname=false").getVerifyMode()).isEqualTo(SslVerifyMode.CA);
        assertThat(ValkeyUri.parse("valkeys://cache:6380/0").getVerifyMode()).isEqualTo(SslVerifyMode.FULL);
        assertThatThrownBy(() -> ValkeyUri.parse("redis://cache:6379/0?ssl_ca_certs=/ca.pem"))
                .hasMessageContaining("without TLS");
        assertThatThrownBy(() -> ValkeyUri.parse("rediss://cache:6380/0?ssl_ca_certs=/nowhere/ca.pem"))
                .hasMessageContaining("ssl_ca_certs names /nowhere/ca.pem, which cannot be read");
        assertThatThrownBy(() -> ValkeyUri.parse("{'master_name': 'm'}")).hasMessageContaining("\"sentinels\"");
    }
}
