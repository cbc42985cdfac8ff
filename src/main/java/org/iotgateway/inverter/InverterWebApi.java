package org.iotgateway.inverter;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.http.base.HttpOperationFailedException;
import org.apache.camel.support.service.ServiceSupport;
import org.iotgateway.ReachabilityCheck;
import org.iotgateway.mqtt.MqttCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The solar gateway's local web API: the serial number and a fresh JWT for every MQTT connect (so a reconnect never
 * presents an expired token, the original's fault), and what the routes' own calls of it (Modbus, state: camel-http in
 * YAML) came to. Readiness check {@code inverter-web-api}: whether the last call reached the API, and the age of the
 * current token. The token is never logged.
 */
public class InverterWebApi extends ServiceSupport implements MqttCredentials, CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(InverterWebApi.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private CamelContext camelContext;
    private String url;
    private long timeoutMillis = 10000;
    private int jwtLifetimeMinutes = 5;
    private final Clock clock = Clock.systemUTC();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private volatile String serialNumber;
    private volatile Instant tokenIssuedAt;
    private final ReachabilityCheck reachability = new ReachabilityCheck("inverter", "inverter-web-api", "Inverter web API",
            "not called yet") {
        @Override
        protected void details(HealthCheckResultBuilder builder) {
            builder.detail("url", url);
            if (serialNumber != null) {
                builder.detail("serial.number", serialNumber);
            }
            Instant issued = tokenIssuedAt;
            if (issued != null) {
                builder.detail("token.age.seconds", Duration.between(issued, clock.instant()).toSeconds());
            }
        }
    };

    @Override
    protected void doStart() {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("the inverter web API has no url");
        }
        reachability.register(camelContext);
    }

    @Override
    protected void doStop() {
        reachability.unregister(camelContext);
    }

    /** User name: the serial number from {@code GET /api/crypto}; password: a JWT from {@code POST /api/jwt/create}. */
    @Override
    public Credentials next() throws InverterFailure {
        try {
            return obtainCredentials();
        } catch (InverterFailure e) {
            throw new InverterFailure("cannot obtain a JWT from the web API: " + e.getMessage(), e.httpStatus());
        }
    }

    private Credentials obtainCredentials() throws InverterFailure {
        JsonNode crypto = json("GET /api/crypto", call(HttpRequest.newBuilder(uri("/api/crypto")).GET(), "GET /api/crypto",
                timeoutMillis));
        String serial = crypto.path("serialNumber").asText("");
        if (serial.isBlank()) {
            throw new InverterFailure("GET /api/crypto gave no serialNumber");
        }
        Instant now = clock.instant();
        ObjectNode request = JSON.createObjectNode();
        ObjectNode barn = request.putObject("barn");
        barn.put("sub", serial);
        barn.put("iat", InverterMessages.TIMESTAMP.format(now));
        barn.put("exp", InverterMessages.TIMESTAMP.format(now.plus(Duration.ofMinutes(jwtLifetimeMinutes))));
        ObjectNode headers = request.putObject("headers");
        headers.put("alg", "ES256");
        headers.put("typ", "JWT");
        request.put("expires_in", jwtLifetimeMinutes);
        JsonNode created = json("POST /api/jwt/create", call(HttpRequest.newBuilder(uri("/api/jwt/create"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(request.toString())), "POST /api/jwt/create", timeoutMillis));
        String jwt = created.path("jwt").asText("");
        if (jwt.isBlank()) {
            throw new InverterFailure("POST /api/jwt/create gave no jwt");
        }
        serialNumber = serial;
        tokenIssuedAt = now;
        LOG.info("Obtained a JWT valid for {} min for serial number {}", jwtLifetimeMinutes, serial);
        return new Credentials(serial, jwt);
    }

    /** Called after each answer of the web API the routes took: the readiness check reports it reachable. */
    public void answered() {
        reachability.report(null);
    }

    /**
     * Why a call of a route to the web API (camel-http, then camel-jackson) failed, in words fit to publish: the API's
     * own {@code error} text and status, no connection, no answer within the timeout, or an answer that is not JSON.
     * Failures that are not the API's pass through; those that say the API is down or broken mark it unreachable.
     *
     * @param failure the exception the route caught
     * @param call what was called, for the words: "the Modbus call", "GET /api/state"
     * @param timeoutMillis the timeout of the component that called
     */
    public Exception explain(Exception failure, String call, long timeoutMillis) {
        if (failure instanceof HttpOperationFailedException answer) {
            int status = answer.getStatusCode();
            reachability.report(status >= 500 ? "the web API answers HTTP " + status + " to " + call : null);
            return new InverterFailure(errorText(answer.getResponseBody(), status), status);
        }
        if (failure instanceof JsonProcessingException) {
            reachability.report(null);
            return new InverterFailure(call + " answered with a body that is not a JSON object");
        }
        if (failure instanceof ConnectTimeoutException) {
            return unreachable("the web API at " + url + " did not accept a connection within " + timeoutMillis + " ms");
        }
        if (failure instanceof SocketTimeoutException) {
            return unreachable("the web API did not answer " + call + " within " + timeoutMillis + " ms");
        }
        if (failure instanceof ConnectException) {
            return unreachable("the web API at " + url + " is unreachable (connection refused)");
        }
        if (failure instanceof IOException) {
            return unreachable("the web API failed to answer " + call + ": " + failure);
        }
        return failure;
    }

    private HttpResponse<String> call(HttpRequest.Builder request, String what, long timeout) throws InverterFailure {
        HttpResponse<String> response;
        try {
            response = http.send(request.timeout(Duration.ofMillis(timeout)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            throw unreachable("the web API at " + url + " did not accept a connection within " + timeout + " ms");
        } catch (HttpTimeoutException e) {
            throw unreachable("the web API did not answer " + what + " within " + timeout + " ms");
        } catch (ConnectException e) {
            throw unreachable("the web API at " + url + " is unreachable (connection refused)");
        } catch (IOException e) {
            throw unreachable("the web API failed to answer " + what + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InverterFailure("interrupted while waiting for the web API");
        }
        int status = response.statusCode();
        if (status >= 500) {
            reachability.report("the web API answers HTTP " + status + " to " + what);
        } else {
            reachability.report(null);
        }
        if (status >= 400) {
            throw new InverterFailure(errorText(response.body(), status), status);
        }
        return response;
    }

    /** The API's own {@code error} text when it gives one. */
    private static String errorText(String body, int status) {
        try {
            JsonNode error = JSON.readTree(body).path("error");
            if (error.isTextual() && !error.asText().isBlank()) {
                return error.asText();
            }
        } catch (JsonProcessingException notJson) {
            // described by the status alone
        }
        return "the web API answered HTTP " + status;
    }

    private static JsonNode json(String what, HttpResponse<String> answer) throws InverterFailure {
        JsonNode json = null;
        try {
            json = JSON.readTree(answer.body());
        } catch (JsonProcessingException notJson) {
            // reported below, as an empty body is
        }
        if (json == null || json.isMissingNode()) {
            throw new InverterFailure(what + " answered with a body that is not JSON", answer.statusCode());
        }
        return json;
    }

    private InverterFailure unreachable(String reason) {
        reachability.report(reason);
        return new InverterFailure(reason);
    }

    private URI uri(String path) {
        return URI.create(url.replaceAll("/+$", "") + path);
    }

    @Override
    public CamelContext getCamelContext() {
        return camelContext;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camelContext = camelContext;
    }

    public String getUrl() {
        return url;
    }

    /** Base URL of the web API, http://host:port. */
    public void setUrl(String url) {
        this.url = url;
    }

    public long getTimeoutMillis() {
        return timeoutMillis;
    }

    /** Time allowed for each call for credentials, from connecting to the end of the answer. */
    public void setTimeoutMillis(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    public int getJwtLifetimeMinutes() {
        return jwtLifetimeMinutes;
    }

    /** Validity the JWT is requested with ({@code expires_in}). */
    public void setJwtLifetimeMinutes(int jwtLifetimeMinutes) {
        this.jwtLifetimeMinutes = jwtLifetimeMinutes;
    }
}
