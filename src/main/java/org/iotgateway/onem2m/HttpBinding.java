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

    /** @throws Onem2mException 4000 when a required field is missing or {@code op} is unknown */
    public static HttpCall toHttp(JsonNode request) throws Onem2mException {
        for (String field : new String[] {"op", "to", "fr", "rqi"}) {
            if (!request.hasNonNull(field)) {
                throw new Onem2mException(Onem2mException.BAD_REQUEST, "the request primitive lacks " + field);
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
                parameters.add(criterion.getKey() + "=" + encode(criterion.getValue()));
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

    /** The response primitive for the CSE's answer to {@code request}. */
    public static ObjectNode toResponse(JsonNode request, int httpStatus, Map<String, List<String>> headers, JsonNode content) {
        String rsc = header(headers, "X-M2M-RSC");
        return response(request, rsc != null && rsc.matches("\\d+") ? Integer.parseInt(rsc) : rscFor(httpStatus), content);
    }

    /** A response the bridge gives itself: the status code and {"m2m:dbg": reason}; {@code request} may be unreadable (null). */
    public static ObjectNode errorResponse(JsonNode request, int rsc, String reason) {
        return response(request, rsc, JsonNodeFactory.instance.objectNode().put("m2m:dbg", reason));
    }

    /** rsc, rqi, pc, to (the request's fr), fr (its to), ot and rvi, as far as the request gives them. */
    private static ObjectNode response(JsonNode request, int rsc, JsonNode content) {
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
        if (asked.hasNonNull("to")) {
            response.put("fr", asked.get("to").asText());
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
            case 408 -> 4008;
            case 409 -> 4105;
            case 415 -> 4015;
            case 501 -> 5001;
            default -> httpStatus >= 200 && httpStatus < 300 ? 2000 : httpStatus >= 400 && httpStatus < 500 ? 4000 : 5000;
        };
    }

    /** The HTTP status for a oneM2M status (TS-0009 table 6.3.3.1-1, as in shared/reference/onem2m.md). */
    public static int httpStatus(int rsc) {
        return switch (rsc) {
            case 2000, 2002, 2004 -> 200;
            case 2001 -> 201;
            case 1000 -> 202;
            case 4000, 4102 -> 400;
            case 4004 -> 404;
            case 4005 -> 405;
            case 4008 -> 408;
            case 4015 -> 415;
            case 4103, 4101, 5105, 5203 -> 403;
            case 4105, 5106 -> 409;
            case 5000 -> 500;
            case 5001 -> 501;
            case 5103, 5107 -> 404;
            case 5207 -> 406;
            default -> rsc >= 2000 && rsc < 3000 ? 200 : rsc >= 4000 && rsc < 5000 ? 400 : 500;
        };
    }
}
