package org.iotgateway.mqtt;

import org.apache.camel.spi.Metadata;

/** Headers of the {@code mqtt:} component. */
public final class MqttConstants {

    @Metadata(label = "consumer,producer", description = "The topic name the message was published to (consumer), or"
            + " the topic to publish to, overriding the endpoint's topic (producer).", javaType = "String")
    public static final String TOPIC = "CamelMqttTopic";
    @Metadata(label = "consumer,producer", description = "The QoS the message was delivered with (consumer), or the QoS"
            + " to publish with (producer).", javaType = "Integer")
    public static final String QOS = "CamelMqttQos";
    @Metadata(label = "consumer,producer", description = "Whether the broker keeps the message as the topic's retained"
            + " value (consumer, subscriptions ask for retain-as-published), or whether to ask it to (producer).",
              javaType = "Boolean")
    public static final String RETAINED = "CamelMqttRetained";
    @Metadata(label = "consumer", description = "Whether the broker may have delivered the message before.",
              javaType = "Boolean")
    public static final String DUPLICATE = "CamelMqttDuplicate";
    @Metadata(label = "consumer", description = "When the gateway received the message, in epoch milliseconds.",
              javaType = "Long")
    public static final String RECEIVED_AT = "CamelMqttReceivedAt";

    @Metadata(label = "consumer", description = "The identifiers of the subscriptions this copy of the message was sent"
            + " for (MQTT 5; empty with 3.1.1). A broker may send a message once per matching subscription; the consumer"
            + " passes on one copy.", javaType = "java.util.List<Integer>")
    public static final String SUBSCRIPTION_IDS = "CamelMqttSubscriptionIds";

    private MqttConstants() {
    }
}
