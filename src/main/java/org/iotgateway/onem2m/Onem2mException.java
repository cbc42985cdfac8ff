package org.iotgateway.onem2m;

/** A request the bridge answers itself, with the oneM2M response status code (rsc) and a reason for {@code m2m:dbg}. */
public class Onem2mException extends Exception {

    public static final int BAD_REQUEST = 4000;
    public static final int OPERATION_NOT_ALLOWED = 4005;
    public static final int REQUEST_TIMEOUT = 4008;
    public static final int UNSUPPORTED_MEDIA_TYPE = 4015;
    public static final int TARGET_NOT_REACHABLE = 5103;

    private final int rsc;

    public Onem2mException(int rsc, String reason) {
        super(reason, null, false, false);
        this.rsc = rsc;
    }

    public int rsc() {
        return rsc;
    }
}
