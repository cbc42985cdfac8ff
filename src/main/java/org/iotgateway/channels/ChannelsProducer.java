package org.iotgateway.channels;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.Counter;
import org.apache.camel.AsyncCallback;
import org.apache.camel.Exchange;
import org.apache.camel.support.DefaultAsyncProducer;
import org.iotgateway.GatewayMeters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the body (a map) to the group of the {@code ChannelsGroup} header, or to each group when it is a list. The send
 * is done once handed to Redis: sends
 * overlap on the layer's connection, which keeps their order, at most {@code maxSendsInFlight} at once; a send that
 * fails later, or reaches channels at capacity, is logged (channels_redis drops a message for a full channel too).
 */
public class ChannelsProducer extends DefaultAsyncProducer {

    private static final Logger LOG = LoggerFactory.getLogger(ChannelsProducer.class);

    private Semaphore sendsInFlight;
    private Counter eventsSent;

    ChannelsProducer(ChannelsEndpoint endpoint) {
        super(endpoint);
    }

    @Override
    public ChannelsEndpoint getEndpoint() {
        return (ChannelsEndpoint) super.getEndpoint();
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        sendsInFlight = new Semaphore(getEndpoint().getMaxSendsInFlight());
        eventsSent = Counter.builder("channels.events.sent").description("Messages sent to Channels groups")
                .register(GatewayMeters.registry(getEndpoint().getCamelContext()));
    }

    @Override
    protected void doStop() throws Exception {
        // group sends under way finish before the layer's connection closes
        if (!sendsInFlight.tryAcquire(getEndpoint().getMaxSendsInFlight(), 5, TimeUnit.SECONDS)) {
            LOG.warn("Channels: stopped with group sends still under way");
        }
        super.doStop();
    }

    @Override
    public boolean process(Exchange exchange, AsyncCallback callback) {
        Object groups = exchange.getMessage().getHeader(ChannelsConstants.GROUP);
        Object body = exchange.getMessage().getBody();
        if (groups == null || groups instanceof String group && group.isBlank()) {
            exchange.setException(new IllegalArgumentException("no " + ChannelsConstants.GROUP + " header: which group to send to"));
        } else if (!(body instanceof Map<?, ?> message)) {
            exchange.setException(new IllegalArgumentException("a Channels message is a map, not "
                    + (body == null ? "nothing" : body.getClass().getName())));
        } else {
            @SuppressWarnings("unchecked")
            Map<String, Object> event = (Map<String, Object>) message;
            if (groups instanceof Collection<?> several) {
                several.forEach(group -> send(String.valueOf(group), event));
            } else {
                send(groups.toString(), event);
            }
        }
        callback.done(true);
        return true;
    }

    private void send(String group, Map<String, Object> event) {
        sendsInFlight.acquireUninterruptibly();
        getEndpoint().channelLayer().groupSend(group, event).whenComplete((full, failure) -> {
            sendsInFlight.release();
            if (failure != null) {
                LOG.warn("Channels: cannot send a message to group '{}': {}", group, failure.toString());
            } else {
                if (full > 0) {
                    LOG.info("Channels: {} channel(s) of group '{}' at capacity, message not delivered to them", full, group);
                }
                eventsSent.increment();
            }
        });
    }
}
