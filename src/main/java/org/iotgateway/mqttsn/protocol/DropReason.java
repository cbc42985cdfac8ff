package org.iotgateway.mqttsn.protocol;

/** Why an incoming datagram was dropped without a reply; the lower-case name is the metric label. */
public enum DropReason {
    /** Shorter than its length field, or than the fixed part of its type. */
    TRUNCATED,
    /** The length field does not match the datagram's size, or uses the 3-octet form wrongly. */
    LENGTH_MISMATCH,
    /** A type code that MQTT-SN 1.2 reserves. */
    UNKNOWN_TYPE,
    /** A defined type whose fields are invalid (empty client id, text that is not UTF-8, ...). */
    MALFORMED,
    /** A forwarder encapsulation whose header is invalid or which wraps another encapsulation. */
    BAD_ENCAPSULATION,
    /** A first packet in the MQTT-SN 2.0 numbering, which this gateway does not speak. */
    UNSUPPORTED_VERSION,
    /** A message only a gateway or a broker sends (CONNACK, REGACK towards the gateway, ...), or one we do not act on. */
    UNEXPECTED_TYPE,
    /** More datagrams from one source address than the flood limit allows. */
    FLOOD,
    /** The message is valid but the gateway has no client for the source address and no reply applies. */
    UNKNOWN_CLIENT;

    private final String label = name().toLowerCase(java.util.Locale.ROOT);
    /** What the log says a datagram dropped for this reason is: made once, as a flood drops one per datagram. */
    private final String logReason = "dropped datagram (" + label + ")";

    public String label() {
        return label;
    }

    public String logReason() {
        return logReason;
    }
}
