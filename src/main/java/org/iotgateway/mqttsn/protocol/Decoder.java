package org.iotgateway.mqttsn.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes one MQTT-SN 1.2 datagram. Pure: reads the buffer, keeps no state, throws
 * {@link MalformedPacketException} with the reason for anything it cannot accept.
 */
public final class Decoder {

    /** The largest message the 3-octet length form can describe. */
    public static final int MAX_MESSAGE_LENGTH = 0xFFFF;

    private Decoder() {
    }

    /** Decodes the datagram between the buffer's position and limit; the buffer's position is not kept. */
    public static Frame decode(ByteBuffer datagram) throws MalformedPacketException {
        ByteBuffer in = datagram.duplicate();
        int size = in.remaining();
        int headerLength = readLength(in, size);
        int type = in.get() & 0xFF;
        if (type != MessageType.ENCAPSULATED) {
            return new Frame(-1, null, decodeBody(type, in, headerLength, true));
        }
        if (in.remaining() < 1) {
            throw new MalformedPacketException(DropReason.BAD_ENCAPSULATION, "encapsulation without Ctrl octet");
        }
        int ctrl = in.get() & 0xFF;
        int nodeIdLength = headerLength - 3;
        if (nodeIdLength < 1 || in.remaining() < nodeIdLength) {
            throw new MalformedPacketException(DropReason.BAD_ENCAPSULATION,
                    "encapsulation length " + headerLength + " leaves no wireless node id");
        }
        byte[] nodeId = new byte[nodeIdLength];
        in.get(nodeId);
        ByteBuffer inner = in.slice();
        int innerSize = inner.remaining();
        if (innerSize == 0) {
            throw new MalformedPacketException(DropReason.BAD_ENCAPSULATION, "encapsulation without a message");
        }
        int innerLength = readLength(inner, innerSize);
        int innerType = inner.get() & 0xFF;
        if (innerType == MessageType.ENCAPSULATED) {
            throw new MalformedPacketException(DropReason.BAD_ENCAPSULATION, "nested encapsulation");
        }
        return new Frame(ctrl, nodeId, decodeBody(innerType, inner, innerLength, false));
    }

    /**
     * Reads the 1- or 3-octet length and checks it against the datagram: it counts the whole message, so it must
     * equal the bytes received (an encapsulation's length counts only its own header).
     */
    private static int readLength(ByteBuffer in, int size) throws MalformedPacketException {
        if (size < 2) {
            throw new MalformedPacketException(DropReason.TRUNCATED, "datagram of " + size + " bytes");
        }
        int first = in.get() & 0xFF;
        int length;
        int headerSize;
        if (first == 0x01) {
            if (size < 4) {
                throw new MalformedPacketException(DropReason.TRUNCATED, "3-octet length form in " + size + " bytes");
            }
            length = in.getShort() & 0xFFFF;
            headerSize = 4;
        } else if (first == 0x00) {
            throw new MalformedPacketException(DropReason.LENGTH_MISMATCH, "length field 0");
        } else {
            length = first;
            headerSize = 2;
        }
        if (length < headerSize) {
            throw new MalformedPacketException(DropReason.LENGTH_MISMATCH, "length field " + length + " shorter than its header");
        }
        int typeOctet = in.get(in.position()) & 0xFF;
        if (typeOctet == MessageType.ENCAPSULATED) {
            // the encapsulation header's length covers only itself; the wrapped message follows
            if (length > size) {
                throw new MalformedPacketException(DropReason.TRUNCATED, "encapsulation header of " + length + " in " + size + " bytes");
            }
            return length;
        }
        if (length > size) {
            throw new MalformedPacketException(DropReason.TRUNCATED, "length field " + length + ", datagram " + size);
        }
        if (length < size) {
            throw new MalformedPacketException(DropReason.LENGTH_MISMATCH, "length field " + length + ", datagram " + size);
        }
        return length;
    }

    private static Message decodeBody(int type, ByteBuffer in, int length, boolean direct) throws MalformedPacketException {
        switch (type) {
            case MessageType.PUBLISH -> {
                need(in, 5, "PUBLISH");
                int flags = in.get() & 0xFF;
                int topicId = in.getShort() & 0xFFFF;
                int msgId = in.getShort() & 0xFFFF;
                byte[] payload = new byte[in.remaining()];
                in.get(payload);
                return new Message.Publish(flags, topicId, msgId, payload);
            }
            case MessageType.CONNECT -> {
                need(in, 4, "CONNECT");
                int flags = in.get() & 0xFF;
                int protocolId = in.get() & 0xFF;
                int duration = in.getShort() & 0xFFFF;
                return new Message.Connect(flags, protocolId, duration, text(in, "client id"));
            }
            case MessageType.REGISTER -> {
                need(in, 4, "REGISTER");
                int topicId = in.getShort() & 0xFFFF;
                int msgId = in.getShort() & 0xFFFF;
                return new Message.Register(topicId, msgId, text(in, "topic name"));
            }
            case MessageType.PINGREQ -> {
                return new Message.PingReq(in.hasRemaining() ? text(in, "client id") : null);
            }
            case MessageType.DISCONNECT -> {
                if (in.remaining() == 0) {
                    return new Message.Disconnect(-1);
                }
                if (in.remaining() != 2) {
                    throw new MalformedPacketException(DropReason.MALFORMED, "DISCONNECT with " + in.remaining() + " body bytes");
                }
                return new Message.Disconnect(in.getShort() & 0xFFFF);
            }
            case MessageType.SEARCHGW -> {
                if (in.remaining() != 1) {
                    // MQTT-SN 2.0 numbers CONNECT 0x01: a longer "SEARCHGW" is a 2.0 client's first packet
                    throw new MalformedPacketException(direct && in.remaining() > 1
                            ? DropReason.UNSUPPORTED_VERSION : DropReason.MALFORMED,
                            "SEARCHGW with " + in.remaining() + " body bytes");
                }
                return new Message.SearchGw(in.get() & 0xFF);
            }
            case MessageType.SUBSCRIBE, MessageType.UNSUBSCRIBE -> {
                String what = type == MessageType.SUBSCRIBE ? "SUBSCRIBE" : "UNSUBSCRIBE";
                need(in, 5, what);
                int flags = in.get() & 0xFF;
                int msgId = in.getShort() & 0xFFFF;
                return switch (Flags.topicIdType(flags)) {
                    case Flags.TOPIC_NORMAL -> new Message.Subscription(type, flags, msgId, text(in, "topic filter"), 0);
                    case Flags.TOPIC_PREDEFINED -> {
                        exactly(in, 2, what + " of a predefined topic id");
                        yield new Message.Subscription(type, flags, msgId, null, in.getShort() & 0xFFFF);
                    }
                    case Flags.TOPIC_SHORT -> {
                        exactly(in, 2, what + " of a short topic name");
                        yield new Message.Subscription(type, flags, msgId, TopicNames.shortName(in.getShort() & 0xFFFF), 0);
                    }
                    default -> throw new MalformedPacketException(DropReason.MALFORMED, what + " with the reserved topic id type 3");
                };
            }
            case MessageType.PUBACK, MessageType.REGACK -> {
                String what = type == MessageType.PUBACK ? "PUBACK" : "REGACK";
                exactly(in, 5, what);
                return new Message.Ack(type, in.getShort() & 0xFFFF, in.getShort() & 0xFFFF, in.get() & 0xFF);
            }
            case MessageType.WILLTOPIC, MessageType.WILLTOPICUPD -> {
                boolean update = type == MessageType.WILLTOPICUPD;
                if (!in.hasRemaining()) {
                    // an empty WILLTOPIC(UPD) deletes the will
                    return new Message.WillTopic(update, 0, null);
                }
                int flags = in.get() & 0xFF;
                return new Message.WillTopic(update, flags, text(in, "will topic"));
            }
            case MessageType.WILLMSG, MessageType.WILLMSGUPD -> {
                byte[] payload = new byte[in.remaining()];
                in.get(payload);
                return new Message.WillMessage(type == MessageType.WILLMSGUPD, payload);
            }
            case MessageType.PUBREL, MessageType.PUBREC, MessageType.PUBCOMP -> {
                if (in.remaining() != 2) {
                    throw new MalformedPacketException(DropReason.MALFORMED,
                            MessageType.name(type) + " with " + in.remaining() + " body bytes");
                }
                return new Message.QosStep(type, in.getShort() & 0xFFFF);
            }
            case MessageType.GWINFO, MessageType.ADVERTISE -> {
                // another gateway's discovery, or a client answering SEARCHGW for one: nothing for this gateway
                return new Message.Ignored(type);
            }
            default -> {
                if (!MessageType.isDefined(type)) {
                    throw new MalformedPacketException(DropReason.UNKNOWN_TYPE, String.format("type 0x%02x", type));
                }
                throw new MalformedPacketException(DropReason.UNEXPECTED_TYPE,
                        String.format("type 0x%02x is not sent by clients", type));
            }
        }
    }

    private static void need(ByteBuffer in, int bytes, String what) throws MalformedPacketException {
        if (in.remaining() < bytes) {
            throw new MalformedPacketException(DropReason.TRUNCATED, what + " body of " + in.remaining() + " bytes, needs " + bytes);
        }
    }

    private static void exactly(ByteBuffer in, int bytes, String what) throws MalformedPacketException {
        if (in.remaining() != bytes) {
            throw new MalformedPacketException(in.remaining() < bytes ? DropReason.TRUNCATED : DropReason.MALFORMED,
                    what + " with " + in.remaining() + " body bytes, needs " + bytes);
        }
    }

    private static String text(ByteBuffer in, String what) throws MalformedPacketException {
        if (!in.hasRemaining()) {
            throw new MalformedPacketException(DropReason.MALFORMED, "empty " + what);
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(in)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new MalformedPacketException(DropReason.MALFORMED, what + " is not UTF-8");
        }
    }
}
