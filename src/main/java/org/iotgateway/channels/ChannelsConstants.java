package org.iotgateway.channels;

import org.apache.camel.spi.Metadata;

/** Headers of the {@code channels:} endpoint. */
public final class ChannelsConstants {

    @Metadata(label = "consumer", description = "The type of the Channels message taken off the channel, as its sender"
                                                + " wrote it: mqtt.subscribe, mqtt_subscribe, mqtt.publish ...", javaType = "String")
    public static final String MESSAGE_TYPE = "ChannelsMessageType";
    @Metadata(label = "producer", description = "The group to send the message (the body, a map) to, or a list of groups:"
                                                + " every channel of each group gets it (channels_redis group_send).",
              javaType = "String or java.util.List<String>", required = true)
    public static final String GROUP = "ChannelsGroup";

    private ChannelsConstants() {
    }
}
