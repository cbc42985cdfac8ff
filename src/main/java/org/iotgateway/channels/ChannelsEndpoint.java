package org.iotgateway.channels;

import org.apache.camel.Category;
import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.spi.Metadata;
import org.apache.camel.spi.UriEndpoint;
import org.apache.camel.spi.UriParam;
import org.apache.camel.spi.UriPath;
import org.apache.camel.support.DefaultEndpoint;

/**
 * A Django Channels channel layer, as channels_redis keeps it in Redis or Valkey. {@code from: channels:<channel>} takes
 * each message a Channels application sends to that channel (the worker's channel; {@code mqtt} for
 * channels-mqtt-proxy): the body is the message as a map, the header {@code ChannelsMessageType} its {@code type}.
 * {@code to: channels:<channel>} sends the body (a map) to the group named by the header {@code ChannelsGroup}.
 * <p>
 * Why a component of ours: Camel has no Channels layer; camel-spring-redis and camel-vertx-redis speak Redis, not
 * channels_redis's MessagePack messages, its sorted-set channels with capacity and expiry, its group keys, or its
 * Pub/Sub variant ({@link RedisChannelLayer}, {@link RedisPubSubChannelLayer}).
 */
@UriEndpoint(firstVersion = "0.1.0", scheme = "channels", title = "Django Channels layer", syntax = "channels:channel",
             category = {Category.MESSAGING}, headersClass = ChannelsConstants.class)
public class ChannelsEndpoint extends DefaultEndpoint {

    @UriPath(description = "The channel the consumer reads. Producers send to groups and use it only to name the layer.")
    @Metadata(required = true)
    private String channel;
    @UriParam(description = "Redis or Valkey holding the channel layer, as channels_redis's hosts: redis://[:password@]host:port/db"
                            + " (valkey://, rediss:// too).", secret = true)
    @Metadata(required = true)
    private String redisUrl;
    @UriParam(defaultValue = "RedisChannelLayer", enums = "RedisChannelLayer,RedisPubSubChannelLayer",
              description = "The channels_redis backend the Channels application's settings name.")
    private String layer = "RedisChannelLayer";
    @UriParam(defaultValue = "asgi", description = "channels_redis's key prefix.")
    private String prefix = "asgi";
    @UriParam(defaultValue = "60", description = "How long a message waits in a channel before it expires (channels_redis expiry).")
    private int expirySeconds = 60;
    @UriParam(defaultValue = "86400", description = "How long a channel stays in a group without being added again (group_expiry).")
    private int groupExpirySeconds = 86400;
    @UriParam(defaultValue = "100", description = "Messages a channel holds; a send to a full channel is dropped, as channels_redis does.")
    private int capacity = 100;
    @UriParam(label = "producer", defaultValue = "1000",
              description = "Group sends under way at once; beyond that a send waits, so that a slow Redis slows the sender.")
    private int maxSendsInFlight = 1000;

    private ChannelLayer channelLayer;

    public ChannelsEndpoint(String uri, ChannelsComponent component) {
        super(uri, component);
    }

    @Override
    public Producer createProducer() {
        return new ChannelsProducer(this);
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        ChannelsConsumer consumer = new ChannelsConsumer(this, processor);
        configureConsumer(consumer);
        return consumer;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        channelLayer = ChannelLayer.of(layer, redisUrl, prefix, expirySeconds, groupExpirySeconds, capacity);
    }

    @Override
    protected void doStop() throws Exception {
        if (channelLayer != null) {
            channelLayer.close();
            channelLayer = null;
        }
        super.doStop();
    }

    /** The layer, open while the endpoint runs; its consumer and producers share it. */
    ChannelLayer channelLayer() {
        return channelLayer;
    }

    public String getChannel() {
        return channel;
    }

    public void setChannel(String channel) {
        this.channel = channel;
    }

    public String getRedisUrl() {
        return redisUrl;
    }

    public void setRedisUrl(String redisUrl) {
        this.redisUrl = redisUrl;
    }

    public String getLayer() {
        return layer;
    }

    public void setLayer(String layer) {
        this.layer = layer;
    }

    public String getPrefix() {
        return prefix;
    }

    public void setPrefix(String prefix) {
        this.prefix = prefix;
    }

    public int getExpirySeconds() {
        return expirySeconds;
    }

    public void setExpirySeconds(int expirySeconds) {
        this.expirySeconds = expirySeconds;
    }

    public int getGroupExpirySeconds() {
        return groupExpirySeconds;
    }

    public void setGroupExpirySeconds(int groupExpirySeconds) {
        this.groupExpirySeconds = groupExpirySeconds;
    }

    public int getCapacity() {
        return capacity;
    }

    public void setCapacity(int capacity) {
        this.capacity = capacity;
    }

    public int getMaxSendsInFlight() {
        return maxSendsInFlight;
    }

    public void setMaxSendsInFlight(int maxSendsInFlight) {
        this.maxSendsInFlight = maxSendsInFlight;
    }
}
