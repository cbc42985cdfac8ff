package org.iotgateway.inverter;

import java.io.IOException;
import java.net.ConnectException;
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
import org.apache.camel.CamelContext;
import org.apache.camel.CamelContextAware;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.support.service.ServiceSupport;
import org.iotgateway.ReachabilityCheck;
import org.iotgateway.mqtt.MqttCredentials;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The solar gateway's local web API: the serial number and a fresh JWT for every MQTT connect (so a reconnect never
 * presents an expired token, the original's fault), Modbus calls and the gateway state. Each call has its own timeout.
 * Readiness check {@code inverter-web-api}: whether the last call reached the API, and the age of the current token.
 * The token is never logged.
 */
public class InverterWebApi extends ServiceSupport implements MqttCredentials, CamelContextAware {

    private static final Logger LOG = LoggerFactory.getLogger(InverterWebApi.class);
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private CamelContext camelContext;
    private String url;
    private long timeoutMillis = 10000;
    private long stateTimeoutMillis = 4000;
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

    /** The web API's answer to a Modbus request (JSON); an error answer, a timeout or no answer is a failure. */
    public String modbus(ModbusCommand command) throws InverterFailure {
        HttpResponse<String> answer = call(HttpRequest.newBuilder(uri("/api/inverter/modbus?" + command.query())).GET(),
                "the Modbus call", timeoutMillis);
        json("the Modbus call", answer);
        return answer.body();
    }

    /** {@code GET /api/state}, as the API gives it. */
    public String state() throws InverterFailure {
        return call(HttpRequest.newBuilder(uri("/api/state")).GET(), "GET /api/state", stateTimeoutMillis).body();
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

    /** Time allowed for each call, from connecting to the end of the answer. */
    public void setTimeoutMillis(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    public long getStateTimeoutMillis() {
        return stateTimeoutMillis;
    }

    /** Time allowed for the state call: shorter than the state period, so that a hung API never delays the next one. */
    public void setStateTimeoutMillis(long stateTimeoutMillis) {
        this.stateTimeoutMillis = stateTimeoutMillis;
    }

    public int getJwtLifetimeMinutes() {
        return jwtLifetimeMinutes;
    }

    /** Validity the JWT is requested with ({@code expires_in}). */
    public void setJwtLifetimeMinutes(int jwtLifetimeMinutes) {
        this.jwtLifetimeMinutes = jwtLifetimeMinutes;
    }
}
