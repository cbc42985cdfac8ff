package org.iotgateway.live;

import org.apache.camel.spi.Metadata;
import org.iotgateway.mqtt.MqttConstants;

/** Headers of the {@code live:} endpoint: those of an MQTT message, as the {@code mqtt:} component sets them. */
public final class LiveConstants {

    @Metadata(description = "The topic: of the message to send to browsers (producer, required), or the one a browser"
                            + " publishes to (consumer).", javaType = "String")
    public static final String TOPIC = MqttConstants.TOPIC;
    @Metadata(description = "The QoS of the message (default 0), or the one a browser asked for.", javaType = "Integer")
    public static final String QOS = MqttConstants.QOS;
    @Metadata(description = "Whether the message is the topic's retained value: new browsers get it on connecting.",
              javaType = "Boolean")
    public static final String RETAINED = MqttConstants.RETAINED;
    @Metadata(label = "producer", description = "When the message was received, in epoch milliseconds (default: now).",
              javaType = "Long")
    public static final String RECEIVED_AT = MqttConstants.RECEIVED_AT;

    private LiveConstants() {
    }
}
