package org.iotgateway.onem2m;

/**
 * A request that came again (QoS 1 redelivers): the response it was given, to publish again, or null while the first
 * is still under way (its response answers both).
 */
public class DuplicateRequestException extends Exception {

    private final transient byte[] response;

    public DuplicateRequestException(String requestId, byte[] response) {
        super(requestId, null, false, false);
        this.response = response;
    }

    public byte[] response() {
        return response;
    }
}
