package org.iotgateway.channels;

import java.util.Map;

import org.apache.camel.Endpoint;
import org.apache.camel.spi.annotations.Component;
import org.apache.camel.support.DefaultComponent;

/** The {@code channels:channel} component: a Django Channels channel layer on Redis, read from and sent to. */
@Component("channels")
public class ChannelsComponent extends DefaultComponent {

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) throws Exception {
        ChannelsEndpoint endpoint = new ChannelsEndpoint(uri, this);
        if (remaining.isBlank()) {
            throw new IllegalArgumentException("channels endpoint needs a channel name: channels:mqtt");
        }
        endpoint.setChannel(remaining);
        setProperties(endpoint, parameters);
        return endpoint;
    }
}
