package org.iotgateway.mqttsn.protocol;

/** Encodes the gateway's replies. Pure: each method returns the exact bytes of one datagram. */
public final class Encoder {

    private static final byte[] PINGRESP = {0x02, MessageType.PINGRESP};
    private static final byte[] DISCONNECT = {0x02, MessageType.DISCONNECT};
    private static final byte[] WILLTOPICREQ = {0x02, MessageType.WILLTOPICREQ};
    private static final byte[] WILLMSGREQ = {0x02, MessageType.WILLMSGREQ};

    private Encoder() {
    }

    public static byte[] connack(int returnCode) {
        return new byte[] {0x03, MessageType.CONNACK, (byte) returnCode};
    }

    public static byte[] regack(int topicId, int msgId, int returnCode) {
        return new byte[] {0x07, MessageType.REGACK, hi(topicId), lo(topicId), hi(msgId), lo(msgId), (byte) returnCode};
    }

    public static byte[] puback(int topicId, int msgId, int returnCode) {
        return new byte[] {0x07, MessageType.PUBACK, hi(topicId), lo(topicId), hi(msgId), lo(msgId), (byte) returnCode};
    }

    public static byte[] suback(int flags, int topicId, int msgId, int returnCode) {
        return new byte[] {0x08, MessageType.SUBACK, (byte) flags, hi(topicId), lo(topicId), hi(msgId), lo(msgId), (byte) returnCode};
    }

    /** The gateway's REGISTER of a topic name for a client it is about to send a message on that topic. */
    public static byte[] register(int topicId, int msgId, byte[] topicName) {
        byte[] out = header(6 + topicName.length, MessageType.REGISTER);
        int at = out.length - topicName.length - 4;
        out[at] = hi(topicId);
        out[at + 1] = lo(topicId);
        out[at + 2] = hi(msgId);
        out[at + 3] = lo(msgId);
        System.arraycopy(topicName, 0, out, at + 4, topicName.length);
        return out;
    }

    /** PUBLISH to a client, in the 3-octet length form when it does not fit the 1-octet one. */
    public static byte[] publish(int flags, int topicId, int msgId, byte[] payload) {
        byte[] out = header(7 + payload.length, MessageType.PUBLISH);
        int at = out.length - payload.length - 5;
        out[at] = (byte) flags;
        out[at + 1] = hi(topicId);
        out[at + 2] = lo(topicId);
        out[at + 3] = hi(msgId);
        out[at + 4] = lo(msgId);
        System.arraycopy(payload, 0, out, at + 5, payload.length);
        return out;
    }

    /**
     * A message of {@code shortLength} octets counting a 1-octet length, with its length and type written: the
     * 3-octet form (0x01, two octets) when it exceeds 255 octets.
     */
    private static byte[] header(int shortLength, int type) {
        if (shortLength <= 0xFF) {
            byte[] out = new byte[shortLength];
            out[0] = (byte) shortLength;
            out[1] = (byte) type;
            return out;
        }
        int length = shortLength + 2;
        if (length > Decoder.MAX_MESSAGE_LENGTH) {
            throw new IllegalArgumentException("a message of " + length + " octets exceeds MQTT-SN's 65535");
        }
        byte[] out = new byte[length];
        out[0] = 0x01;
        out[1] = hi(length);
        out[2] = lo(length);
        out[3] = (byte) type;
        return out;
    }

    public static byte[] unsuback(int msgId) {
        return new byte[] {0x04, MessageType.UNSUBACK, hi(msgId), lo(msgId)};
    }

    public static byte[] willtopicreq() {
        return WILLTOPICREQ.clone();
    }

    public static byte[] willmsgreq() {
        return WILLMSGREQ.clone();
    }

    public static byte[] willtopicresp(int returnCode) {
        return new byte[] {0x03, MessageType.WILLTOPICRESP, (byte) returnCode};
    }

    public static byte[] willmsgresp(int returnCode) {
        return new byte[] {0x03, MessageType.WILLMSGRESP, (byte) returnCode};
    }

    /** PUBREC, PUBREL or PUBCOMP: the message type and the message id. */
    public static byte[] qosStep(int type, int msgId) {
        return new byte[] {0x04, (byte) type, hi(msgId), lo(msgId)};
    }

    /** ADVERTISE: the gateway id and the seconds until the next one. */
    public static byte[] advertise(int gatewayId, int durationSeconds) {
        return new byte[] {0x05, MessageType.ADVERTISE, (byte) gatewayId, hi(durationSeconds), lo(durationSeconds)};
    }

    public static byte[] gwinfo(int gatewayId) {
        return new byte[] {0x03, MessageType.GWINFO, (byte) gatewayId};
    }

    public static byte[] pingresp() {
        return PINGRESP.clone();
    }

    public static byte[] disconnect() {
        return DISCONNECT.clone();
    }

    /** Wraps a reply for a client behind a forwarder, with the Ctrl octet and node id the forwarder sent. */
    public static byte[] encapsulate(int ctrl, byte[] wirelessNodeId, byte[] message) {
        int headerLength = 3 + wirelessNodeId.length;
        byte[] out = new byte[headerLength + message.length];
        out[0] = (byte) headerLength;
        out[1] = (byte) MessageType.ENCAPSULATED;
        out[2] = (byte) ctrl;
        System.arraycopy(wirelessNodeId, 0, out, 3, wirelessNodeId.length);
        System.arraycopy(message, 0, out, headerLength, message.length);
        return out;
    }

    private static byte hi(int value) {
        return (byte) (value >>> 8);
    }

    private static byte lo(int value) {
        return (byte) value;
    }
}
