package org.iotgateway.mqttsn.protocol;

/**
 * A datagram that cannot be decoded. Carries no stack trace: garbage arrives at line rate during a flood, and the
 * reason is all the caller needs.
 */
public final class MalformedPacketException extends Exception {

    private final DropReason reason;

    public MalformedPacketException(DropReason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    public DropReason reason() {
        return reason;
    }
}
