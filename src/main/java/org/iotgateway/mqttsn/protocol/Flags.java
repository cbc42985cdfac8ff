package org.iotgateway.mqttsn.protocol;

/** The Flags octet of CONNECT, PUBLISH, SUBSCRIBE and WILLTOPIC (specification section 5.3.4). */
public final class Flags {

    public static final int DUP = 0x80;
    public static final int QOS_MASK = 0x60;
    public static final int RETAIN = 0x10;
    public static final int WILL = 0x08;
    public static final int CLEAN_SESSION = 0x04;
    public static final int TOPIC_ID_TYPE_MASK = 0x03;

    public static final int TOPIC_NORMAL = 0;
    public static final int TOPIC_PREDEFINED = 1;
    public static final int TOPIC_SHORT = 2;

    private Flags() {
    }

    /** QoS as 0, 1, 2 or -1 (the bit pattern 0b11). */
    public static int qos(int flags) {
        int bits = (flags & QOS_MASK) >>> 5;
        return bits == 3 ? -1 : bits;
    }

    public static int topicIdType(int flags) {
        return flags & TOPIC_ID_TYPE_MASK;
    }

    public static boolean dup(int flags) {
        return (flags & DUP) != 0;
    }

    public static boolean retain(int flags) {
        return (flags & RETAIN) != 0;
    }

    public static boolean cleanSession(int flags) {
        return (flags & CLEAN_SESSION) != 0;
    }

    public static boolean will(int flags) {
        return (flags & WILL) != 0;
    }
}
