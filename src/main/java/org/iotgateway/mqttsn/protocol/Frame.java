package org.iotgateway.mqttsn.protocol;

/**
 * One datagram: the message and, when a forwarder relayed it, the encapsulation header that the reply must carry
 * back (specification section 5.5).
 *
 * @param forwarderCtrl   the Ctrl octet of the encapsulation, or -1 when the message came directly from the client
 * @param wirelessNodeId  the forwarder's id of the client, or null when the message came directly from the client
 */
public record Frame(int forwarderCtrl, byte[] wirelessNodeId, Message message) {

    /** A datagram that could not be decoded, taken as sent directly by the client at its address. */
    public static final Frame UNDECODED = new Frame(-1, null, null);

    public boolean forwarded() {
        return wirelessNodeId != null;
    }
}
