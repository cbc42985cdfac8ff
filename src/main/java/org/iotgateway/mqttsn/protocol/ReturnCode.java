package org.iotgateway.mqttsn.protocol;

/** Return codes of CONNACK, REGACK, PUBACK and SUBACK (specification section 5.3.10). */
public final class ReturnCode {

    public static final int ACCEPTED = 0x00;
    public static final int CONGESTION = 0x01;
    public static final int INVALID_TOPIC_ID = 0x02;
    public static final int NOT_SUPPORTED = 0x03;

    private ReturnCode() {
    }

    /** Metric and log label of a return code. */
    public static String label(int code) {
        return switch (code) {
            case ACCEPTED -> "accepted";
            case CONGESTION -> "congestion";
            case INVALID_TOPIC_ID -> "invalid_topic_id";
            case NOT_SUPPORTED -> "not_supported";
            default -> "rc_" + code;
        };
    }
}
