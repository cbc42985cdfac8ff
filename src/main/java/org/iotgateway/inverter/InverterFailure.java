package org.iotgateway.inverter;

/**
 * Why a Modbus request or a web API call failed, in words fit to publish on the response topic, with the web API's
 * HTTP status when it answered one.
 */
public class InverterFailure extends Exception {

    private final Integer httpStatus;

    public InverterFailure(String reason, Integer httpStatus) {
        super(reason, null, false, false);
        this.httpStatus = httpStatus;
    }

    public InverterFailure(String reason) {
        this(reason, null);
    }

    /** The web API's answer status, or null when there was no answer (invalid request, API down, timeout). */
    public Integer httpStatus() {
        return httpStatus;
    }
}
