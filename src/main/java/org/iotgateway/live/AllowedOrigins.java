package org.iotgateway.live;

import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The web origins whose pages may open the feed: the page's own origin (same origin, the default), a list of origins
 * ({@code https://dash.example.com,http://localhost:3000}), or {@code *} for any.
 */
final class AllowedOrigins {

    private final boolean any;
    private final List<String> listed;

    private AllowedOrigins(boolean any, List<String> listed) {
        this.any = any;
        this.listed = listed;
    }

    /** Parses the setting: empty is same origin only. */
    static AllowedOrigins parse(String setting) {
        List<String> items = setting == null ? List.of() : Arrays.stream(setting.split(","))
                .map(String::trim).filter(item -> !item.isEmpty()).toList();
        boolean any = items.contains("*");
        List<String> listed = items.stream().filter(item -> !item.equals("*")).map(item -> {
            URI uri = URI.create(item);
            if (uri.getScheme() == null || uri.getHost() == null || uri.getRawPath() != null && !uri.getRawPath().isEmpty()) {
                throw new IllegalArgumentException("live.allowed-origins: '" + item
                        + "' is not an origin (scheme://host[:port], as a browser sends it in Origin)");
            }
            return normalized(uri);
        }).toList();
        return new AllowedOrigins(any, listed);
    }

    boolean isAny() {
        return any;
    }

    /** Whether a page of {@code origin} may open the feed, asked of a server that the request names {@code host}. */
    boolean allows(String origin, String host) {
        if (any) {
            return true;
        }
        URI uri;
        try {
            uri = URI.create(origin.trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        if (uri.getScheme() == null || uri.getHost() == null) {
            // "null" (a sandboxed or file: page) and anything else that names no site
            return false;
        }
        String normalized = normalized(uri);
        return listed.contains(normalized) || host != null && sameHost(uri, host);
    }

    private static boolean sameHost(URI origin, String hostHeader) {
        URI server;
        try {
            server = URI.create(origin.getScheme() + "://" + hostHeader.trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        return server.getHost() != null && server.getHost().equalsIgnoreCase(origin.getHost())
               && port(server) == port(origin);
    }

    private static String normalized(URI uri) {
        return uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port(uri);
    }

    private static int port(URI uri) {
        if (uri.getPort() >= 0) {
            return uri.getPort();
        }
        return "https".equalsIgnoreCase(uri.getScheme()) || "wss".equalsIgnoreCase(uri.getScheme()) ? 443 : 80;
    }
}
