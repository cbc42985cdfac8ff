package org.iotgateway.onem2m;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The TS-0009 HTTP binding of a request primitive, and the response primitive of an HTTP answer: method by {@code op},
 * path by the form of {@code to}, query parameters, {@code X-M2M-*} headers, {@code Content-Type} with {@code ty}; the
 * answer's {@code rsc} from {@code X-M2M-RSC} (the HTTP status only when it is missing).
 */
public final class HttpBinding {

    /** What to send to the CSE. */
    public record HttpCall(String method, String pathAndQuery, Map<String, String> headers, String body) {
    }

    private static final DateTimeFormatter ONEM2M_TIME = DateTimeFormatter.ofPattern("uuuuMMdd'T'HHmmss");
    private static final String[] QUERY = {"rcn", "rp", "da", "drt"};
    private static final String[][] HEADERS = {
        {"fr", "X-M2M-Origin"}, {"rqi", "X-M2M-RI"}, {"rvi", "X-M2M-RVI"}, {"ot", "X-M2M-OT"}, {"rqet", "X-M2M-RET"},
        {"rset", "X-M2M-RST"}, {"oet", "X-M2M-OET"}, {"ec", "X-M2M-EC"}, {"gid", "X-M2M-GID"}, {"vsi", "X-M2M-VSI"},
    };

    private HttpBinding() {
    }

    /** @throws Onem2mException 4000 when a required field is missing or not a single value, or {@code op} is unknown */
    public static HttpCall toHttp(JsonNode request) throws Onem2mException {
        for (String field : new String[] {"op", "to", "fr", "rqi"}) {
            if (!request.hasNonNull(field)) {
                throw new Onem2mException(Onem2mException.BAD_REQUEST, "the request primitive lacks " + field);
            }
            if (!request.get(field).isValueNode()) {
                throw new Onem2mException(Onem2mException.BAD_REQUEST, "the request primitive's " + field + " is "
                        + (request.get(field).isArray() ? "a list" : "a map") + ", not a single value");
            }
        }
        int op = request.path("op").asInt(-1);
        String method = switch (op) {
            case 1, 5 -> "POST";
            case 2 -> "GET";
            case 3 -> "PUT";
            case 4 -> "DELETE";
            default -> throw new Onem2mException(Onem2mException.BAD_REQUEST, "unknown operation op=" + request.path("op"));
        };
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Accept", "application/json");
        for (String[] header : HEADERS) {
            JsonNode value = request.get(header[0]);
            if (value != null && !value.isNull()) {
                headers.put(header[1], value.asText());
            }
        }
        JsonNode notificationUris = request.path("rt").path("nu");
        if (notificationUris.isArray() && !notificationUris.isEmpty()) {
            List<String> uris = new ArrayList<>();
            notificationUris.forEach(uri -> uris.add(uri.asText()));
            headers.put("X-M2M-RTU", String.join("&", uris));
        }
        String body = null;
        if (op == 1 || op == 3 || op == 5) {
            body = request.has("pc") ? request.get("pc").toString() : "";
            headers.put("Content-Type", op == 1 && request.hasNonNull("ty") ? "application/json;ty=" + request.get("ty").asText()
                    : "application/json");
        }
        return new HttpCall(method, path(request.get("to").asText()) + query(request), headers, body);
    }

    /** CSE-relative {@code a/b} → {@code /a/b}; SP-relative {@code /cse/a} → {@code /~/cse/a}; absolute {@code //sp/cse/a} → {@code /_/sp/cse/a}. */
    static String path(String to) {
        if (to.startsWith("//")) {
            return "/_/" + encodePath(to.substring(2));
        }
        if (to.startsWith("/")) {
            return "/~/" + encodePath(to.substring(1));
        }
        return "/" + encodePath(to);
    }

    private static String encodePath(String path) {
        List<String> segments = new ArrayList<>();
        for (String segment : path.split("/", -1)) {
            segments.add(URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return String.join("/", segments);
    }

    private static String query(JsonNode request) {
        List<String> parameters = new ArrayList<>();
        for (String name : QUERY) {
            if (request.hasNonNull(name)) {
                parameters.add(name + "=" + encode(request.get(name)));
            }
        }
        JsonNode responseType = request.path("rt").path("rtv");
        if (!responseType.isMissingNode() && !responseType.isNull()) {
            parameters.add("rt=" + encode(responseType));
        }
        JsonNode filter = request.get("fc");
        if (filter != null && filter.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> criteria = filter.fields();
            while (criteria.hasNext()) {
                Map.Entry<String, JsonNode> criterion = criteria.next();
                // a name outside TS-0004's list is the CSE's to refuse; it must still make a valid URL
                parameters.add(URLEncoder.encode(criterion.getKey(), StandardCharsets.UTF_8) + "=" + encode(criterion.getValue()));
            }
        }
        return parameters.isEmpty() ? "" : "?" + String.join("&", parameters);
    }

    /** A list becomes {@code a+b}, as TS-0009 writes several values of one parameter. */
    private static String encode(JsonNode value) {
        if (value.isArray()) {
            List<String> values = new ArrayList<>();
            value.forEach(item -> values.add(URLEncoder.encode(item.asText(), StandardCharsets.UTF_8)));
            return String.join("+", values);
        }
        return URLEncoder.encode(value.asText(), StandardCharsets.UTF_8);
    }

    /** The response primitive for the answer of {@code receiver} (its ID: the CSE-ID, or an AE-ID) to {@code request}. */
    public static ObjectNode toResponse(JsonNode request, String receiver, int httpStatus, Map<String, List<String>> headers,
                                        JsonNode content) {
        String rsc = header(headers, "X-M2M-RSC");
        return response(request, receiver, rsc != null && rsc.matches("\\d+") ? Integer.parseInt(rsc) : rscFor(httpStatus),
                content);
    }

    /**
     * A response the bridge gives itself for {@code receiver}: the status code and {"m2m:dbg": reason}; {@code request}
     * may be unreadable (null).
     */
    public static ObjectNode errorResponse(JsonNode request, String receiver, int rsc, String reason) {
        return response(request, receiver, rsc, JsonNodeFactory.instance.objectNode().put("m2m:dbg", reason));
    }

    /** rsc, rqi, pc, to (the request's fr), fr (the receiver's ID, TS-0004 7.2.1.2), ot and rvi, as far as known. */
    private static ObjectNode response(JsonNode request, String receiver, int rsc, JsonNode content) {
        JsonNode asked = request == null ? JsonNodeFactory.instance.objectNode() : request;
        ObjectNode response = JsonNodeFactory.instance.objectNode();
        response.put("rsc", rsc);
        response.put("rqi", asked.path("rqi").asText());
        if (content != null && !content.isMissingNode() && !content.isNull()) {
            response.set("pc", content);
        }
        if (asked.hasNonNull("fr")) {
            response.put("to", asked.get("fr").asText());
        }
        if (receiver != null) {
            response.put("fr", receiver);
        }
        response.put("ot", ONEM2M_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)));
        if (asked.hasNonNull("rvi")) {
            response.put("rvi", asked.get("rvi").asText());
        }
        return response;
    }

    private static String header(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> header : headers.entrySet()) {
            if (header.getKey() != null && header.getKey().equalsIgnoreCase(name) && !header.getValue().isEmpty()) {
                return header.getValue().get(0);
            }
        }
        return null;
    }

    /** The oneM2M status for an HTTP status, when the CSE gave no X-M2M-RSC. */
    static int rscFor(int httpStatus) {
        return switch (httpStatus) {
            case 200 -> 2000;
            case 201 -> 2001;
            case 202 -> 1000;
            case 400 -> 4000;
            case 403 -> 4103;
            case 404 -> 4004;
            case 405 -> 4005;
            case 406 -> 5207;
            case 408, 504 -> 4008;
            case 409 -> 4105;
            case 415 -> 4015;
            case 501 -> 5001;
            default -> httpStatus >= 200 && httpStatus < 300 ? 2000 : httpStatus >= 400 && httpStatus < 500 ? 4000 : 5000;
        };
    }

    /**
     * TS-0009 table 6.3.2-1 (V3.9.1), each response status code of TS-0004 table 6.6.3.9-1 with its HTTP status; the
     * real CSEs tried (ACME) answer the same.
     */
    private static final Map<Integer, Integer> HTTP_STATUS = Map.ofEntries(
            Map.entry(1000, 202), Map.entry(1001, 202), Map.entry(1002, 202),
            Map.entry(2000, 200), Map.entry(2001, 201), Map.entry(2002, 200), Map.entry(2004, 200),
            Map.entry(4000, 400), Map.entry(4001, 501), Map.entry(4004, 404), Map.entry(4005, 405), Map.entry(4008, 504),
            Map.entry(4015, 415), Map.entry(4101, 403), Map.entry(4102, 400), Map.entry(4103, 403), Map.entry(4104, 409),
            Map.entry(4105, 409), Map.entry(4106, 403), Map.entry(4107, 403), Map.entry(4108, 403), Map.entry(4109, 403),
            Map.entry(4110, 400), Map.entry(4111, 403), Map.entry(4112, 403), Map.entry(4113, 403), Map.entry(4114, 403),
            Map.entry(4115, 403), Map.entry(4116, 403), Map.entry(4117, 403), Map.entry(4118, 404), Map.entry(4119, 404),
            Map.entry(4120, 400), Map.entry(4121, 404), Map.entry(4122, 400), Map.entry(4123, 400), Map.entry(4124, 409),
            Map.entry(4125, 404), Map.entry(4126, 400), Map.entry(4127, 403), Map.entry(4128, 403),
            Map.entry(5000, 500), Map.entry(5001, 501), Map.entry(5103, 404), Map.entry(5105, 403), Map.entry(5106, 403),
            Map.entry(5107, 404), Map.entry(5203, 403), Map.entry(5204, 500), Map.entry(5205, 403), Map.entry(5206, 501),
            Map.entry(5207, 406), Map.entry(5208, 403), Map.entry(5209, 500), Map.entry(5210, 500), Map.entry(5211, 500),
            Map.entry(5212, 500), Map.entry(5214, 500), Map.entry(5215, 500), Map.entry(5216, 500), Map.entry(5217, 500),
            Map.entry(5218, 500), Map.entry(5219, 500), Map.entry(5220, 500), Map.entry(5221, 500), Map.entry(5222, 500),
            Map.entry(6003, 404), Map.entry(6005, 404), Map.entry(6010, 400), Map.entry(6020, 500), Map.entry(6021, 500),
            Map.entry(6022, 400), Map.entry(6023, 400), Map.entry(6024, 400), Map.entry(6025, 500), Map.entry(6026, 500),
            Map.entry(6028, 400), Map.entry(6029, 400));

    /** The HTTP status for a oneM2M status by {@link #HTTP_STATUS}; a code it lacks by its class (2xxx 200, 4xxx 400, else 500). */
    public static int httpStatus(int rsc) {
        Integer status = HTTP_STATUS.get(rsc);
        if (status != null) {
            return status;
        }
        return rsc >= 2000 && rsc < 3000 ? 200 : rsc >= 4000 && rsc < 5000 ? 400 : 500;
    }
}
