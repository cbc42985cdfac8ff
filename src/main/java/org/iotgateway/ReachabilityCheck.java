package org.iotgateway;

import java.util.Map;

import org.apache.camel.health.HealthCheckResultBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness of a dependency judged by how its last use went: DOWN with the problem the owner last reported, UP once a
 * use succeeds. Each change between working and not is logged once, not on every use.
 */
public class ReachabilityCheck extends ReadinessCheck {

    private static final Logger LOG = LoggerFactory.getLogger(ReachabilityCheck.class);

    private final String subject;
    private volatile String problem;
    private volatile boolean problemReported;

    /**
     * @param subject        what is reached, for the log lines ("Inverter web API at http://…")
     * @param initialProblem shown until the first use is reported (null: UP until then)
     */
    public ReachabilityCheck(String group, String id, String subject, String initialProblem) {
        super(group, id);
        this.subject = subject;
        this.problem = initialProblem;
    }

    /** The outcome of a use: null when it worked, else why not. */
    public void report(String newProblem) {
        String old = problem;
        boolean wasReported = problemReported;
        problem = newProblem;
        problemReported = newProblem != null;
        if (newProblem != null && !newProblem.equals(old)) {
            LOG.warn("{}: {}", subject, newProblem);
        } else if (newProblem == null && old != null && wasReported) {
            LOG.info("{}: answers again", subject);
        }
    }

    /** Details of the owner's, added to every result. */
    protected void details(HealthCheckResultBuilder builder) {
    }

    @Override
    protected final void doCall(HealthCheckResultBuilder builder, Map<String, Object> options) {
        details(builder);
        String current = problem;
        if (current == null) {
            builder.up();
        } else {
            builder.message(current).down();
        }
    }
}
