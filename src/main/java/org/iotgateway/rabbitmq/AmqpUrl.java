package org.iotgateway.rabbitmq;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;

import javax.net.ssl.SSLContext;

import com.rabbitmq.client.ConnectionFactory;

/**
 * An AMQP URL read by kombu's rules, as the Python gateway's {@code MQTTSN_AMQP_CONNECTION_STRING} is written:
 * {@code amqp://user:pass@host:5672//} means vhost "/", as do no path and "/%2F"; any other path is the vhost name.
 * (The RabbitMQ Java client rejects "//" and maps "/" to the empty vhost.)
 */
public record AmqpUrl(boolean tls, String host, int port, String virtualHost, String username, String password) {

    public static AmqpUrl parse(String url) {
        URI uri = URI.create(url.trim());
        String scheme = uri.getScheme();
        boolean tls;
        if ("amqp".equals(scheme) || "pyamqp".equals(scheme)) {
            tls = false;
        } else if ("amqps".equals(scheme)) {
            tls = true;
        } else {
            throw new IllegalArgumentException("AMQP URL must start with amqp:// or amqps://, got '" + scheme + "://'");
        }
        String host = uri.getHost() == null ? "localhost" : uri.getHost();
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 5671 : 5672;
        String username = "guest";
        String password = "guest";
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            username = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
        }
        String path = uri.getRawPath();
        String vhost;
        if (path == null || path.isEmpty() || path.equals("/")) {
            vhost = "/";
        } else {
            vhost = decode(path.substring(1));
        }
        return new AmqpUrl(tls, host, port, vhost, username, password);
    }

    /** A connection factory for this address; TLS uses the JVM's trust store and verifies the host name. */
    public ConnectionFactory connectionFactory() throws NoSuchAlgorithmException {
        return configure(new ConnectionFactory());
    }

    /** Points the factory at this address, with these credentials. */
    public <F extends ConnectionFactory> F configure(F factory) throws NoSuchAlgorithmException {
        factory.setHost(host);
        factory.setPort(port);
        factory.setVirtualHost(virtualHost);
        factory.setUsername(username);
        factory.setPassword(password);
        if (tls) {
            factory.useSslProtocol(SSLContext.getDefault());
            factory.enableHostnameVerification();
        }
        return factory;
    }

    private static String decode(String text) {
        return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** For logs: everything but the password. */
    @Override
    public String toString() {
        return (tls ? "amqps://" : "amqp://") + username + "@" + host + ":" + port + " vhost " + virtualHost;
    }
}
