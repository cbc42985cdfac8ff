package org.iotgateway.mqttsn.protocol;

/** A decoded MQTT-SN message sent by a client (or relayed by a forwarder). */
public sealed interface Message {

    /** CONNECT: a client starting or resuming a session. */
    record Connect(int flags, int protocolId, int duration, String clientId) implements Message {
        public boolean cleanSession() {
            return Flags.cleanSession(flags);
        }

        /** The client has a will: the gateway asks for its topic and message before CONNACK. */
        public boolean will() {
            return Flags.will(flags);
        }
    }

    /**
     * WILLTOPIC (during CONNECT) or WILLTOPICUPD ({@code update}); {@code topic} is null when the message is empty,
     * which deletes the will.
     */
    record WillTopic(boolean update, int flags, String topic) implements Message {
        public int qos() {
            return Flags.qos(flags);
        }

        public boolean retain() {
            return Flags.retain(flags);
        }
    }

    /** WILLMSG (during CONNECT) or WILLMSGUPD ({@code update}): the will's payload. */
    record WillMessage(boolean update, byte[] payload) implements Message {
    }

    /** PUBREL, PUBREC or PUBCOMP from a client: one step of a QoS 2 exchange. */
    record QosStep(int type, int msgId) implements Message {
    }

    /** REGISTER: a client asking for the id of a topic name. */
    record Register(int topicId, int msgId, String topicName) implements Message {
    }

    /**
     * PUBLISH. {@code topicId} is the raw two octets: a registered or predefined id, or the two characters of a short
     * topic name, as {@link Flags#topicIdType(int)} says.
     */
    record Publish(int flags, int topicId, int msgId, byte[] payload) implements Message {
        public int qos() {
            return Flags.qos(flags);
        }

        public int topicIdType() {
            return Flags.topicIdType(flags);
        }

        public boolean dup() {
            return Flags.dup(flags);
        }

        public boolean retain() {
            return Flags.retain(flags);
        }
    }

    /** PINGREQ; {@code clientId} is null unless a sleeping client is waking up. */
    record PingReq(String clientId) implements Message {
    }

    /** DISCONNECT; {@code duration} is -1 unless the client is going to sleep for that many seconds. */
    record Disconnect(int duration) implements Message {
    }

    /** SEARCHGW: a client looking for gateways. */
    record SearchGw(int radius) implements Message {
    }

    /**
     * SUBSCRIBE or UNSUBSCRIBE. {@code topicName} is the topic filter for a normal topic id type (it may hold
     * wildcards) or the two characters of a short name; {@code topicId} the predefined id, else 0.
     */
    record Subscription(int type, int flags, int msgId, String topicName, int topicId) implements Message {
        public int qos() {
            return Flags.qos(flags);
        }

        public int topicIdType() {
            return Flags.topicIdType(flags);
        }
    }

    /** PUBACK or REGACK from a client, answering the gateway's PUBLISH or REGISTER of a message for it. */
    record Ack(int type, int topicId, int msgId, int returnCode) implements Message {
    }

    /** A defined message type that a client may send but that this gateway does not act on (GWINFO, ADVERTISE). */
    record Ignored(int type) implements Message {
    }
}
