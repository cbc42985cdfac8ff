package org.iotgateway.rabbitmq;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import javax.net.ssl.SSLContext;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import org.iotgateway.TlsSettings;

/**
 * An AMQP URL read by kombu's rules, as the Python gateway's {@code MQTTSN_AMQP_CONNECTION_STRING} is written:
 * {@code amqp://user:pass@host:5672//} means vhost "/", as do no path and "/%2F"; any other path is the vhost name.
 * (The RabbitMQ Java client rejects "//" and maps "/" to the empty vhost.)
 * <p>
 * Several URLs separated by {@code ;} are kombu's failover list, the nodes of one cluster: a connection goes to one
 * of them that answers, tried in random order (which spreads gateways over the cluster), and a lost one tries them
 * all again. They share the user, password, vhost and
 * TLS. TLS ({@code amqps://}) takes the query arguments of RabbitMQ's URI specification: {@code cacertfile} (CA, PEM:
 * instead of the JVM's trust store), {@code certfile} and {@code keyfile} (client certificate and its unencrypted
 * PKCS#8 key, PEM). The server's certificate and host name are always checked.
 */
public record AmqpUrl(boolean tls, List<Address> addresses, String virtualHost, String username, String password,
                      Map<String, String> tlsArguments) {

    private static final List<String> TLS_ARGUMENTS = List.of("cacertfile", "certfile", "keyfile");

    public AmqpUrl(boolean tls, String host, int port, String virtualHost, String username, String password) {
        this(tls, List.of(new Address(host, port)), virtualHost, username, password, Map.of());
    }

    public static AmqpUrl parse(String urls) {
        List<AmqpUrl> nodes = new ArrayList<>();
        for (String url : urls.split(";")) {
            if (!url.isBlank()) {
                nodes.add(parseOne(url.trim()));
            }
        }
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("No AMQP URL given");
        }
        AmqpUrl first = nodes.get(0);
        for (AmqpUrl node : nodes) {
            if (node.tls != first.tls || !node.virtualHost.equals(first.virtualHost) || !node.username.equals(first.username)
                    || !node.password.equals(first.password) || !node.tlsArguments.equals(first.tlsArguments)) {
                throw new IllegalArgumentException("The failover URLs differ in scheme, user, password, vhost or TLS arguments:"
                        + " they name the nodes of one cluster, which share them (" + first + " and " + node + ")");
            }
        }
        List<Address> addresses = nodes.stream().map(node -> node.addresses.get(0)).toList();
        return new AmqpUrl(first.tls, addresses, first.virtualHost, first.username, first.password, first.tlsArguments);
    }

    private static AmqpUrl parseOne(String url) {
        URI uri = URI.create(url);
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
        Map<String, String> tlsArguments = new LinkedHashMap<>();
        if (uri.getRawQuery() != null) {
            for (String argument : uri.getRawQuery().split("&")) {
                String name = argument.contains("=") ? argument.substring(0, argument.indexOf('=')) : argument;
                if (!TLS_ARGUMENTS.contains(name)) {
                    throw new IllegalArgumentException("Unknown AMQP URL argument '" + name + "' (known: " + TLS_ARGUMENTS + ")");
                }
                tlsArguments.put(name, decode(argument.substring(Math.min(argument.length(), name.length() + 1))));
            }
        }
        if (!tlsArguments.isEmpty() && !tls) {
            throw new IllegalArgumentException("TLS arguments " + tlsArguments.keySet() + " in an amqp:// URL: use amqps://");
        }
        return new AmqpUrl(tls, List.of(new Address(host, port)), vhost, username, password, Map.copyOf(tlsArguments));
    }

    /** A connection factory for this address; TLS verifies the host name against the CA (the JVM's, or cacertfile). */
    public ConnectionFactory connectionFactory() throws NoSuchAlgorithmException {
        return configure(new ConnectionFactory());
    }

    /** Points the factory at the first address, with these credentials and TLS; {@link #connect} tries them all. */
    public <F extends ConnectionFactory> F configure(F factory) throws NoSuchAlgorithmException {
        factory.setHost(addresses.get(0).getHost());
        factory.setPort(addresses.get(0).getPort());
        factory.setVirtualHost(virtualHost);
        factory.setUsername(username);
        factory.setPassword(password);
        if (tls) {
            SSLContext context = TlsSettings.sslContext(tlsArguments.get("cacertfile"), tlsArguments.get("certfile"),
                    tlsArguments.get("keyfile"));
            factory.useSslProtocol(context == null ? SSLContext.getDefault() : context);
            factory.enableHostnameVerification();
        }
        return factory;
    }

    /** A connection to a node that answers, the nodes tried in random order. */
    public Connection connect(ConnectionFactory factory, String name) throws IOException, TimeoutException {
        return factory.newConnection(addresses, name);
    }

    /** The nodes as Spring's {@code CachingConnectionFactory.setAddresses} takes them. */
    public String addressList() {
        return addresses.stream().map(address -> address.getHost() + ":" + address.getPort()).collect(Collectors.joining(","));
    }

    private static String decode(String text) {
        return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** For logs: everything but the password. */
    @Override
    public String toString() {
        return (tls ? "amqps://" : "amqp://") + username + "@" + addressList() + " vhost " + virtualHost;
    }
}
