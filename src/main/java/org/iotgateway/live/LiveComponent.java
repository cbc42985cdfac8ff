package org.iotgateway.live;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/**
 * The {@code live:host:port/path} component: the feed's WebSocket server is hosted by the {@code from:} endpoint, and a
 * {@code to:} endpoint of the same address sends messages to its browsers (as camel-vertx-websocket's server and
 * producer share an address).
 */
@Component("live")
public class LiveComponent extends DefaultComponent {

    /** The running feeds, by host:port/path. */
    private final Map<String, LiveFeed> feeds = new ConcurrentHashMap<>();

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        LiveEndpoint endpoint = new LiveEndpoint(uri, this);
        int slash = remaining.indexOf('/');
        int colon = slash < 0 ? remaining.lastIndexOf(':') : remaining.lastIndexOf(':', slash);
        if (colon < 0) {
            throw new IllegalArgumentException("live endpoint needs host:port/path, got '" + remaining + "'");
        }
        endpoint.setHost(remaining.substring(0, colon));
        endpoint.setPort(Integer.parseInt(slash < 0 ? remaining.substring(colon + 1) : remaining.substring(colon + 1, slash)));
        endpoint.setPath(slash < 0 ? "/ws" : remaining.substring(slash));
        setProperties(endpoint, parameters);
        return endpoint;
    }

    void hosting(String address, LiveFeed feed) {
        if (feeds.putIfAbsent(address, feed) != null) {
            throw new IllegalStateException("a live feed already runs at " + address);
        }
    }

    void stoppedHosting(String address, LiveFeed feed) {
        feeds.remove(address, feed);
    }

    LiveFeed feedAt(String address) {
        return feeds.get(address);
    }
}
