package org.iotgateway.onem2m;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.netty.channel.Channel;
import org.apache.camel.component.netty.http.HttpServerBootstrapFactory;
import org.apache.camel.component.netty.http.HttpServerInitializerFactory;
import org.apache.camel.component.netty.http.NettyHttpComponent;
import org.apache.camel.component.netty.http.NettyHttpConfiguration;
import org.apache.camel.component.netty.http.NettyHttpConsumer;
import org.apache.camel.support.service.ServiceHelper;
import org.iotgateway.RequestDeadline;

/**
 * camel-netty-http whose servers close a connection that has not sent a whole request in time ({@link RequestDeadline}),
 * registered as {@code netty-http} (the oneM2M binding's HTTP port faces whoever reaches it). camel-netty-http has no
 * read timeout of its own, and its component builds every server's pipeline itself, ignoring the endpoint's
 * {@code serverInitializerFactory}: this subclass builds them with the deadline added after the request decoder.
 * Everything else, options included, is camel-netty-http's.
 */
public class DeadlineNettyHttpComponent extends NettyHttpComponent {

    private final long readTimeoutMillis;
    private final Map<String, HttpServerBootstrapFactory> servers = new ConcurrentHashMap<>();

    /** @param readTimeoutMillis time a client has to send a whole request, from connecting or from the last answer */
    public DeadlineNettyHttpComponent(long readTimeoutMillis) {
        this.readTimeoutMillis = readTimeoutMillis;
    }

    @Override
    protected HttpServerBootstrapFactory getOrCreateHttpNettyServerBootstrapFactory(NettyHttpConsumer consumer) {
        NettyHttpConfiguration configuration = consumer.getConfiguration();
        return servers.computeIfAbsent(configuration.getAddress(), address -> {
            HttpServerBootstrapFactory server = new HttpServerBootstrapFactory(getMultiplexChannelHandler(configuration.getPort()));
            server.init(getCamelContext(), configuration, new HttpServerInitializerFactory(consumer) {
                @Override
                protected void initChannel(Channel channel) throws Exception {
                    super.initChannel(channel);
                    channel.pipeline().addAfter("decoder", "request-deadline", new RequestDeadline(readTimeoutMillis));
                }
            });
            return server;
        });
    }

    @Override
    protected void doStop() throws Exception {
        super.doStop();
        ServiceHelper.stopService(servers.values());
        servers.clear();
    }
}
