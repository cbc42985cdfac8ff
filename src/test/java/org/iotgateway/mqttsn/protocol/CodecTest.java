package org.iotgateway.mqttsn.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

import static org.iotgateway.testing.Vectors.ELVACO_JSON;
import static org.iotgateway.testing.Vectors.bytes;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The byte vectors of shared/reference/mqtt-sn.md section 2, and the ways a datagram can be wrong. */
class CodecTest {

    static Message decode(byte[] datagram) throws MalformedPacketException {
        Frame frame = Decoder.decode(ByteBuffer.wrap(datagram));
        assertThat(frame.forwarded()).isFalse();
        return frame.message();
    }

    static String hex(byte[] b) {
        return HexFormat.ofDelimiter(" ").formatHex(b);
    }

    @Test
    void should_decode_elvaco_connect_with_clean_session_and_18_hour_keepalive() throws Exception {
        Message.Connect connect = (Message.Connect) decode(bytes("16 04 04 01 fd 20", "94193A04010020B8"));
        assertThat(connect.clientId()).isEqualTo("94193A04010020B8");
        assertThat(connect.cleanSession()).isTrue();
        assertThat(connect.protocolId()).isEqualTo(1);
        assertThat(connect.duration()).isEqualTo(64800);
    }

    @Test
    void should_decode_register_vectors_including_length_byte_0x20() throws Exception {
        Message.Register first = (Message.Register) decode(bytes("27 0a 00 00 ff cb", "mr/94193A04010020B8/standard/json"));
        assertThat(first.topicName()).isEqualTo("mr/94193A04010020B8/standard/json");
        assertThat(first.msgId()).isEqualTo(0xffcb);

        Message.Register spaceLength = (Message.Register) decode(bytes("20 0a 00 00 0c d3", "mr/94193A040301D945/969795"));
        assertThat(spaceLength.topicName()).isEqualTo("mr/94193A040301D945/969795");
        assertThat(spaceLength.msgId()).isEqualTo(0x0cd3);
    }

    @Test
    void should_decode_the_162_byte_elvaco_publish_with_dup_and_qos1() throws Exception {
        byte[] datagram = bytes("a2 0c a0 00 01 c7 92", ELVACO_JSON);
        assertThat(datagram).hasSize(162);
        Message.Publish publish = (Message.Publish) decode(datagram);
        assertThat(publish.dup()).isTrue();
        assertThat(publish.qos()).isEqualTo(1);
        assertThat(publish.topicIdType()).isEqualTo(Flags.TOPIC_NORMAL);
        assertThat(publish.topicId()).isEqualTo(1);
        assertThat(publish.msgId()).isEqualTo(0xc792);
        assertThat(new String(publish.payload(), StandardCharsets.UTF_8)).isEqualTo(ELVACO_JSON);
    }

    @Test
    void should_decode_qos0_predefined_short_and_qos_minus_one_publishes() throws Exception {
        Message.Publish qos0 = (Message.Publish) decode(bytes("0c 0c 00 00 02 00 00", "hello"));
        assertThat(qos0.qos()).isZero();
        assertThat(qos0.topicId()).isEqualTo(2);

        Message.Publish predefined = (Message.Publish) decode(bytes("09 0c 21 00 05 00 01", "hi"));
        assertThat(predefined.qos()).isEqualTo(1);
        assertThat(predefined.topicIdType()).isEqualTo(Flags.TOPIC_PREDEFINED);
        assertThat(predefined.topicId()).isEqualTo(5);

        Message.Publish shortName = (Message.Publish) decode(bytes("09 0c 22 61 62 00 01", "hi"));
        assertThat(shortName.topicIdType()).isEqualTo(Flags.TOPIC_SHORT);
        assertThat(TopicNames.shortName(shortName.topicId())).isEqualTo("ab");

        Message.Publish minusOnePredefined = (Message.Publish) decode(bytes("09 0c 61 00 07 00 00", "m1"));
        assertThat(minusOnePredefined.qos()).isEqualTo(-1);
        assertThat(minusOnePredefined.topicIdType()).isEqualTo(Flags.TOPIC_PREDEFINED);

        Message.Publish minusOneShort = (Message.Publish) decode(bytes("09 0c 62 78 79 00 00", "m2"));
        assertThat(minusOneShort.qos()).isEqualTo(-1);
        assertThat(TopicNames.shortName(minusOneShort.topicId())).isEqualTo("xy");
    }

    @Test
    void should_decode_ping_with_and_without_client_id_and_disconnect_with_and_without_duration() throws Exception {
        assertThat(decode(bytes("02 16", ""))).isEqualTo(new Message.PingReq(null));
        assertThat(decode(bytes("05 16", "abc"))).isEqualTo(new Message.PingReq("abc"));
        assertThat(decode(bytes("02 18", ""))).isEqualTo(new Message.Disconnect(-1));
        assertThat(decode(bytes("04 18 00 0a", ""))).isEqualTo(new Message.Disconnect(10));
    }

    @Test
    void should_decode_the_will_messages_of_connect_and_their_updates() throws Exception {
        Message.Connect connect = (Message.Connect) decode(bytes("0b 04 0c 01 00 3c", "dev01"));
        assertThat(connect.will()).isTrue();
        assertThat(connect.cleanSession()).isTrue();
        assertThat(connect.duration()).isEqualTo(60);

        Message.WillTopic topic = (Message.WillTopic) decode(bytes("0e 07 30", "meters/lost"));
        assertThat(topic).isEqualTo(new Message.WillTopic(false, 0x30, "meters/lost"));
        assertThat(topic.qos()).isEqualTo(1);
        assertThat(topic.retain()).isTrue();
        assertThat(decode(bytes("02 07", ""))).as("empty WILLTOPIC: no will").isEqualTo(new Message.WillTopic(false, 0, null));
        assertThat(decode(bytes("08 1a 00", "a/b/c"))).isEqualTo(new Message.WillTopic(true, 0, "a/b/c"));
        assertThat(decode(bytes("02 1a", ""))).isEqualTo(new Message.WillTopic(true, 0, null));

        Message.WillMessage message = (Message.WillMessage) decode(bytes("06 09 00 ff 00 01", ""));
        assertThat(message.update()).isFalse();
        assertThat(message.payload()).containsExactly(0x00, 0xff, 0x00, 0x01);
        assertThat(((Message.WillMessage) decode(bytes("02 1c", ""))).payload()).as("empty will message").isEmpty();
        assertThat(((Message.WillMessage) decode(bytes("05 1c", "bye"))).update()).isTrue();
    }

    @Test
    void should_decode_the_qos2_steps_a_client_sends() throws Exception {
        assertThat(decode(bytes("04 10 12 34", ""))).isEqualTo(new Message.QosStep(MessageType.PUBREL, 0x1234));
        assertThat(decode(bytes("04 0f 00 07", ""))).isEqualTo(new Message.QosStep(MessageType.PUBREC, 7));
        assertThat(decode(bytes("04 0e 00 07", ""))).isEqualTo(new Message.QosStep(MessageType.PUBCOMP, 7));
        Message.Publish publish = (Message.Publish) decode(bytes("09 0c 40 00 01 00 02", "hi"));
        assertThat(publish.qos()).isEqualTo(2);
    }

    @Test
    void should_unwrap_forwarder_encapsulation_and_keep_its_header_for_the_reply() throws Exception {
        Frame frame = Decoder.decode(ByteBuffer.wrap(bytes("07 fe 00 30 31 30 32 08 0c 61 00 01 00 00 78", "")));
        assertThat(frame.forwarded()).isTrue();
        assertThat(frame.forwarderCtrl()).isZero();
        assertThat(new String(frame.wirelessNodeId(), StandardCharsets.US_ASCII)).isEqualTo("0102");
        Message.Publish publish = (Message.Publish) frame.message();
        assertThat(publish.qos()).isEqualTo(-1);
        assertThat(publish.topicId()).isEqualTo(1);
        assertThat(publish.payload()).containsExactly('x');

        byte[] reply = Encoder.encapsulate(frame.forwarderCtrl(), frame.wirelessNodeId(), Encoder.puback(1, 0, 2));
        assertThat(hex(reply)).isEqualTo("07 fe 00 30 31 30 32 07 0d 00 01 00 00 02");
    }

    @Test
    void should_decode_the_3_octet_length_form_up_to_its_limit() throws Exception {
        int length = Decoder.MAX_MESSAGE_LENGTH;
        ByteBuffer datagram = ByteBuffer.allocate(length);
        datagram.put((byte) 0x01).putShort((short) length).put((byte) MessageType.PUBLISH)
                .put((byte) 0x20).putShort((short) 1).putShort((short) 7);
        datagram.position(0);
        Message.Publish publish = (Message.Publish) Decoder.decode(datagram).message();
        assertThat(publish.payload()).hasSize(length - 9);
        assertThat(publish.msgId()).isEqualTo(7);
    }

    @Test
    void should_encode_replies_exactly_as_the_reference_gateway() {
        assertThat(hex(Encoder.connack(ReturnCode.ACCEPTED))).isEqualTo("03 05 00");
        assertThat(hex(Encoder.regack(1, 0x4f69, 0))).isEqualTo("07 0b 00 01 4f 69 00");
        assertThat(hex(Encoder.puback(1, 0xc792, 0))).isEqualTo("07 0d 00 01 c7 92 00");
        assertThat(hex(Encoder.puback(1, 0x71f6, 0))).isEqualTo("07 0d 00 01 71 f6 00");
        assertThat(hex(Encoder.pingresp())).isEqualTo("02 17");
        assertThat(hex(Encoder.disconnect())).isEqualTo("02 18");
    }

    @Test
    void should_encode_the_will_qos2_and_discovery_messages_of_the_specification() {
        assertThat(hex(Encoder.willtopicreq())).isEqualTo("02 06");
        assertThat(hex(Encoder.willmsgreq())).isEqualTo("02 08");
        assertThat(hex(Encoder.willtopicresp(ReturnCode.ACCEPTED))).isEqualTo("03 1b 00");
        assertThat(hex(Encoder.willmsgresp(ReturnCode.CONGESTION))).isEqualTo("03 1d 01");
        assertThat(hex(Encoder.qosStep(MessageType.PUBREC, 0x1234))).isEqualTo("04 0f 12 34");
        assertThat(hex(Encoder.qosStep(MessageType.PUBCOMP, 0x1234))).isEqualTo("04 0e 12 34");
        assertThat(hex(Encoder.advertise(7, 900))).isEqualTo("05 00 07 03 84");
        assertThat(hex(Encoder.gwinfo(7))).isEqualTo("03 02 07");
    }

    @Test
    void should_reject_every_kind_of_bad_datagram_with_its_reason() {
        assertReason("", DropReason.TRUNCATED);
        assertReason("05", DropReason.TRUNCATED);
        assertReason("00 0c", DropReason.LENGTH_MISMATCH);
        assertReason("09 0c 20 00 01", DropReason.TRUNCATED);                   // length says more than arrived
        assertReason("05 16 61 62 63 64", DropReason.LENGTH_MISMATCH);          // trailing bytes
        assertReason("01 00", DropReason.TRUNCATED);
        assertReason("01 00 03 16", DropReason.LENGTH_MISMATCH);               // 3-octet length shorter than its header
        assertReason("04 0c 20 00", DropReason.TRUNCATED);                      // PUBLISH without msg id
        assertReason("02 03", DropReason.UNKNOWN_TYPE);
        assertReason("02 ff", DropReason.UNKNOWN_TYPE);
        assertReason("03 05 00", DropReason.UNEXPECTED_TYPE);                   // CONNACK sent to a gateway
        assertReason("06 04 04 01 00 3c", DropReason.MALFORMED);               // CONNECT without client id
        assertReason("08 0a 00 00 00 01 c3 28", DropReason.MALFORMED);        // topic name not UTF-8
        assertReason("03 18 00", DropReason.MALFORMED);
        assertReason("03 10 00", DropReason.MALFORMED);                        // PUBREL with half a msg id
        assertReason("04 07 00 ff", DropReason.MALFORMED);                      // will topic not UTF-8
        assertReason("08 01 00 00 00 3c 61 62", DropReason.UNSUPPORTED_VERSION); // an MQTT-SN 2.0 CONNECT
        assertReason("03 fe 00 02 16", DropReason.BAD_ENCAPSULATION);          // no node id
        assertReason("04 fe 00 01", DropReason.BAD_ENCAPSULATION);             // no wrapped message
        assertReason("04 fe 00 01 04 fe 00 01", DropReason.BAD_ENCAPSULATION); // nested
        assertReason("04 fe 00 01 05 16", DropReason.TRUNCATED);               // wrapped length wrong
    }

    private static void assertReason(String hex, DropReason reason) {
        assertThatThrownBy(() -> Decoder.decode(ByteBuffer.wrap(bytes(hex, ""))))
                .isInstanceOf(MalformedPacketException.class)
                .extracting(e -> ((MalformedPacketException) e).reason())
                .isEqualTo(reason);
    }
}
