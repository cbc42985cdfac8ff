package org.iotgateway.channels;

import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.support.DefaultConsumer;
import org.iotgateway.GatewayMeters;
import org.iotgateway.ReachabilityCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the channel's messages one at a time on its own thread, {@code channels-<channel>-receiver}, and runs the route
 * for each there: a message is handed to the layer as done (channels_redis's receive has already removed it) once its
 * route has run, so messages keep their order. Readiness check {@code channels-redis}: whether the channel can be read.
 */
public class ChannelsConsumer extends DefaultConsumer {

    private static final Logger LOG = LoggerFactory.getLogger(ChannelsConsumer.class);

    private Thread receiver;
    private volatile boolean running;
    private Counter rejected;
    private final ReachabilityCheck redis = new ReachabilityCheck("channels", "channels-redis", "Channels worker's Redis",
            "not reading its channel yet") {
        @Override
        protected void details(HealthCheckResultBuilder builder) {
            builder.detail("channel", getEndpoint().getPrefix() + getEndpoint().getChannel());
        }
    };

    ChannelsConsumer(ChannelsEndpoint endpoint, Processor processor) {
        super(endpoint, processor);
    }

    @Override
    public ChannelsEndpoint getEndpoint() {
        return (ChannelsEndpoint) super.getEndpoint();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        rejected = ChannelsMessages.rejectedCounter(GatewayMeters.registry(getEndpoint().getCamelContext()));
        redis.register(getEndpoint().getCamelContext());
        running = true;
        receiver = new Thread(this::receiveLoop, "channels-" + getEndpoint().getChannel() + "-receiver");
        receiver.start();
    }

    @Override
    protected void doStop() throws Exception {
        running = false;
        // a receive waits at most a second: the consumer stops between two messages, never in the middle of one
        receiver.join(TimeUnit.SECONDS.toMillis(5));
        redis.unregister(getEndpoint().getCamelContext());
        super.doStop();
    }

    private void receiveLoop() {
        String channel = getEndpoint().getChannel();
        ChannelLayer layer = getEndpoint().channelLayer();
        while (running) {
            ChannelLayer.Received received;
            try {
                received = layer.receive(channel, 1);
            } catch (MsgPack.MalformedMessageException e) {
                reject("a message on channel '" + channel + "' is not valid msgpack: " + e.getMessage());
                continue;
            } catch (RuntimeException e) {
                redis.report("cannot read channel '" + channel + "' from Redis: " + e.getMessage() + "; retrying every second");
                pause();
                continue;
            }
            redis.report(null);
            if (received == null) {
                continue;
            }
            try {
                String type = ChannelsMessages.type(received.message());
                Exchange exchange = createExchange(false);
                exchange.getMessage().setBody(received.message());
                exchange.getMessage().setHeader(ChannelsConstants.MESSAGE_TYPE, type);
                try {
                    getProcessor().process(exchange);
                } catch (Exception e) {
                    exchange.setException(e);
                }
                if (exchange.getException() != null) {
                    getExceptionHandler().handleException("Processing the Channels message of type " + type, exchange,
                            exchange.getException());
                }
                releaseExchange(exchange, false);
            } catch (ChannelsMessages.BadMessageException e) {
                reject(e.getMessage() + ": " + received.message());
            } finally {
                layer.done(channel, received.member());
            }
        }
    }

    private void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    private void reject(String reason) {
        rejected.increment();
        LOG.warn("Channels worker: skipped a message: {}", reason);
    }
}
