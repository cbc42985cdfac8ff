package org.iotgateway.mqtt;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/** The broker URL forms users write, turned into the ones Paho accepts. */
public final class BrokerUrl {

    private BrokerUrl() {
    }

    /**
     * {@code tcp://} and {@code mqtt://} (port 1883 by default), {@code ssl://}, {@code tls://} and {@code mqtts://}
     * (port 8883 by default); a bare {@code host} or {@code host:port} (as channels-mqtt-proxy's MQTT_HOST) is tcp.
     *
     * @throws IllegalArgumentException saying what is wrong with the URL
     */
    public static String toPaho(String url) {
        URI uri;
        try {
            uri = new URI(url.contains("://") ? url.strip() : "tcp://" + url.strip());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("MQTT broker URL '" + redacted(url) + "' is not a URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean tls = switch (scheme) {
            case "tcp", "mqtt" -> false;
            case "ssl", "tls", "mqtts" -> true;
            default -> throw new IllegalArgumentException("MQTT broker URL '" + redacted(url)
                    + "' must start with tcp://, mqtt://, ssl://, tls:// or mqtts://");
        };
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("MQTT broker URL '" + redacted(url) + "' has no host");
        }
        if (uri.getUserInfo() != null) {
            throw new IllegalArgumentException("MQTT broker URL '" + redacted(url)
                    + "' carries credentials: give the user name and password as settings of their own");
        }
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 8883 : 1883;
        String host = uri.getHost().contains(":") && !uri.getHost().startsWith("[") ? "[" + uri.getHost() + "]" : uri.getHost();
        return (tls ? "ssl://" : "tcp://") + host + ":" + port;
    }

    /** The URL without any user information, for logs and health details. */
    public static String redacted(String url) {
        if (url == null) {
            return null;
        }
        int scheme = url.indexOf("://");
        int at = url.indexOf('@');
        int slash = url.indexOf('/', scheme + 3);
        if (scheme >= 0 && at > scheme && (slash < 0 || at < slash)) {
            return url.substring(0, scheme + 3) + "***@" + url.substring(at + 1);
        }
        return url;
    }
}
