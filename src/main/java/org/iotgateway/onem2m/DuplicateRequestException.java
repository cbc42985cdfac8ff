package org.iotgateway.onem2m;

/** A request that came again (QoS 1 redelivers): it has been answered already and is dropped. */
public class DuplicateRequestException extends Exception {

    public DuplicateRequestException(String reason) {
        super(reason, null, false, false);
    }
}
