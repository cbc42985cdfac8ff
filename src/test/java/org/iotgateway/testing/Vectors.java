package org.iotgateway.testing;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Test vectors of shared/reference/mqtt-sn.md section 2. */
public final class Vectors {

    /** The 155-byte Elvaco reading of the 162-byte PUBLISH vector. */
    public static final String ELVACO_JSON = "{\"TS\":\"2021-07-05T18:00:00Z\",\"ID\":224396,\"E\":184,\"U\":\"kWh\",\"V\":6580,"
            + "\"VU\":\"l\",\"P\":0,\"PU\":\"W\",\"F\":0,\"FU\":\"l/h\",\"FT\":0,\"TU\":\"C\",\"RT\":0,\"RU\":\"C\",\"EF\":\"0x0421\"}";

    private Vectors() {
    }

    /** A message with its 1-octet length computed: type and fields as spaced hex, then UTF-8 text. */
    public static byte[] message(String typeAndFields, String text) {
        byte[] body = bytes(typeAndFields, text);
        byte[] all = new byte[body.length + 1];
        all[0] = (byte) all.length;
        System.arraycopy(body, 0, all, 1, body.length);
        return all;
    }

    /** Spaced hex octets followed by UTF-8 text, as the reference writes a datagram. */
    public static byte[] bytes(String hex, String text) {
        byte[] head = HexFormat.ofDelimiter(" ").parseHex(hex);
        byte[] tail = text.getBytes(StandardCharsets.UTF_8);
        byte[] all = new byte[head.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }
}
