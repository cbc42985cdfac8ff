package org.iotgateway.live;

import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriPath;
import org.apache.camel.support.DefaultConsumer;
import org.apache.camel.support.DefaultEndpoint;
import org.apache.camel.support.DefaultProducer;
import org.apache.camel.support.service.ServiceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live feed: a WebSocket server and dashboard page for browsers, each of which receives the MQTT messages its own
 * topic filters match. {@code from: live:host:port/path} runs the server (its options are the consumer's) and emits
 * the messages browsers publish, when {@code clientPublishTopics} allows; {@code to: live:host:port/path} sends a
 * message (body and {@code CamelMqtt*} headers, as {@code mqtt:} consumers set them) to every browser of the server at
 * that address that wants it.
 * <p>
 * Why a component of ours: the fan-out encodes each message once and gives every browser a bounded backlog of shared
 * frames, so one slow browser loses its own oldest frames instead of slowing the others or growing the heap, and
 * retained values are replayed to new browsers; the WebSocket components of Camel write each message to each peer as
 * it comes (docs/benchmarks.md, the live feed's fan-out).
 */
@UriEndpoint(firstVersion = "0.1.0", scheme = "live", title = "Live MQTT feed to browsers", syntax = "live:host:port/path",
             category = {Category.IOT, Category.HTTP}, headersClass = LiveConstants.class)
public class LiveEndpoint extends DefaultEndpoint {

    private static final Logger LOG = LoggerFactory.getLogger(LiveEndpoint.class);

    @UriPath(description = "The address to listen on; 0.0.0.0 for every interface.")
    @Metadata(required = true)
    private String host;
    @UriPath(description = "The TCP port of the feed and the dashboard.")
    @Metadata(required = true)
    private int port;
    @UriPath(defaultValue = "/ws", description = "The WebSocket path (the dashboard is at /).")
    private String path = "/ws";
    @UriParam
    private LiveFeed feed = new LiveFeed();

    public LiveEndpoint(String uri, LiveComponent component) {
        super(uri, component);
    }

    @Override
    public LiveComponent getComponent() {
        return (LiveComponent) super.getComponent();
    }

    String address() {
        return host + ":" + port + path;
    }

    @Override
    public Producer createProducer() {
        return new DefaultProducer(this) {
            /** Whether the absence of the feed was reported, since it was last running. */
            private volatile boolean absenceReported;

            /**
             * With no feed running at the address (its route not started yet, being replaced, or unable to bind) there
             * is no browser to send to: the message is dropped, and the first of a run of them logged. Readiness
             * names the feed's route meanwhile.
             */
            @Override
            public void process(Exchange exchange) {
                LiveFeed running = getComponent().feedAt(address());
                if (running == null) {
                    if (!absenceReported) {
                        absenceReported = true;
                        LOG.warn("No live feed runs at {} (its route from: live:{} is not started): messages for its"
                                + " browsers are dropped until it does", address(), address());
                    }
                    return;
                }
                absenceReported = false;
                running.process(exchange);
            }
        };
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        DefaultConsumer consumer = new DefaultConsumer(this, processor) {
            @Override
            protected void doStart() throws Exception {
                super.doStart();
                feed.setCamelContext(getCamelContext());
                feed.listenOn(host, port, path);
                feed.setBrowserPublishes(this);
                ServiceHelper.startService(feed);
                getComponent().hosting(address(), feed);
            }

            @Override
            protected void doStop() throws Exception {
                getComponent().stoppedHosting(address(), feed);
                ServiceHelper.stopService(feed);
                super.doStop();
            }
        };
        configureConsumer(consumer);
        return consumer;
    }

    public String getHost() {
        return host;
    }

    public void setHost(String host) {
        this.host = host;
    }

    public int getPort() {
        return port;
    }

    public void setPort(int port) {
        this.port = port;
    }

    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }

    public LiveFeed getFeed() {
        return feed;
    }

    public void setFeed(LiveFeed feed) {
        this.feed = feed;
    }
}
