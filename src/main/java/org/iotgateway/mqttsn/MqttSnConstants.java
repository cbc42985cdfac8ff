package org.iotgateway.mqttsn;

import org.apache.camel.spi.Metadata;

/** Headers of the exchange the {@code mqttsn:} consumer emits for each accepted PUBLISH. */
public final class MqttSnConstants {

    @Metadata(description = "The client id given in CONNECT; absent for a QoS -1 PUBLISH from an address with no session.",
              javaType = "String")
    public static final String CLIENT_ID = "CamelMqttSnClientId";
    @Metadata(description = "The sender as ip:port (ip:port/node for a client behind a forwarder).", javaType = "String")
    public static final String SOURCE = "CamelMqttSnSource";
    @Metadata(description = "The topic name: registered, predefined or short. For a to: mqttsn: step, the topic of the"
                            + " message for devices (required).", javaType = "String")
    public static final String TOPIC_NAME = "CamelMqttSnTopicName";
    @Metadata(description = "The topic id type: normal, predefined or short; will for a lost client's will.", javaType = "String")
    public static final String TOPIC_ID_TYPE = "CamelMqttSnTopicIdType";
    @Metadata(description = "QoS of the PUBLISH: 0, 1, 2 or -1 (of the will, for a will). For a to: mqttsn: step, the"
                            + " message's QoS (0, 1 or 2, -1 taken as 0; default the endpoint's qos).", javaType = "Integer")
    public static final String QOS = "CamelMqttSnQos";
    @Metadata(description = "The PUBLISH message id.", javaType = "Integer")
    public static final String MESSAGE_ID = "CamelMqttSnMessageId";
    @Metadata(description = "The reading's id for de-duplication, client id and message id as clientId:msgId: the same"
                            + " when the device sends the PUBLISH again. Only for a QoS 1 or 2 PUBLISH from a connected client.",
              javaType = "String")
    public static final String READING_ID = "CamelMqttSnReadingId";
    @Metadata(description = "The retain flag.", javaType = "Boolean")
    public static final String RETAIN = "CamelMqttSnRetain";
    @Metadata(description = "The DUP flag: the client is sending this PUBLISH again.", javaType = "Boolean")
    public static final String DUP = "CamelMqttSnDup";
    @Metadata(description = "True for the will of a client found lost (keep-alive or sleep expired, protocol error),"
                            + " published once by one instance; absent for a PUBLISH.", javaType = "Boolean")
    public static final String WILL = "CamelMqttSnWill";
    @Metadata(description = "When the gateway received the datagram (epoch milliseconds).", javaType = "Long")
    public static final String RECEIVED_AT = "CamelMqttSnReceivedAt";
    @Metadata(description = "Set by the route to answer with this PUBACK return code (0-3) instead of the default "
                            + "(0 when the exchange completes, 1 when it fails).", javaType = "Integer")
    public static final String RETURN_CODE = "CamelMqttSnReturnCode";

    @Metadata(label = "producer", description = "After a to: mqttsn: step, the devices the message was sent to.", javaType = "Integer")
    public static final String SENT = "CamelMqttSnSent";
    @Metadata(label = "producer", description = "After a to: mqttsn: step, the sleeping devices it was kept for.", javaType = "Integer")
    public static final String KEPT = "CamelMqttSnKept";
    @Metadata(label = "producer", description = "After a to: mqttsn: step, the subscribed devices it could not be delivered to"
                                                + " (disconnected, lost, no topic id left).", javaType = "Integer")
    public static final String NOT_DELIVERED = "CamelMqttSnNotDelivered";

    private MqttSnConstants() {
    }
}
