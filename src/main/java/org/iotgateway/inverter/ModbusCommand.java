package org.iotgateway.inverter;

import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A Modbus request from the request topic, checked and turned into the query of the web API's
 * {@code GET /api/inverter/modbus}, with the parameters in the original client's order and its defaults:
 * read (function code 3 or 4) {@code device_id, function_code, address, size=1, type=U16, endianess=big, scale_factor=1};
 * write (16) {@code device_id, address, function_code=16, values, type=U16}.
 * Numbers may come as numeric strings; address 0 is a valid register (the original refused it).
 */
public record ModbusCommand(int functionCode, String query) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS, DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    private static final Pattern INTEGER = Pattern.compile("[+-]?\\d+");
    private static final int MAX_REGISTER = 65535;
    // a read of more registers does not fit in one Modbus response (PDU of 253 bytes)
    private static final int MAX_READ_SIZE = 125;
    // nor a write of more in one Modbus request (function 16)
    private static final int MAX_WRITE_SIZE = 123;
    // a serial number or a type name is far shorter; a 100 KB one made a 100 KB URL, and camel-http then spent minutes
    // of CPU in URISupport.sanitizeUri's regular expression when the web API answered it with an error status
    private static final int MAX_TEXT_LENGTH = 64;
    // digits of scale_factor before and after the point: 1e999999999 would be a billion digits once written out
    private static final int MAX_DECIMAL_DIGITS = 30;

    /** Parses the request's JSON; every problem is an {@link InverterFailure} that names the field and the reason. */
    public static ModbusCommand parse(byte[] payload) throws InverterFailure {
        if (payload == null || payload.length == 0) {
            throw new InverterFailure("the request must be a JSON object");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(payload)).toString();
        } catch (CharacterCodingException e) {
            throw new InverterFailure("the request is not UTF-8 text");
        }
        JsonNode request;
        try {
            request = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            String problem = e.getOriginalMessage().startsWith("Trailing token") ? "more text after the JSON value"
                    : e.getOriginalMessage().lines().findFirst().orElse("");
            throw new InverterFailure("invalid JSON: " + problem
                    + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr() + " column " + e.getLocation().getColumnNr() : ""));
        }
        if (request == null || !request.isObject()) {
            throw new InverterFailure("the request must be a JSON object");
        }
        int functionCode = integer(request, "function_code", 0, Integer.MAX_VALUE, null);
        String deviceId = deviceId(request);
        int address = integer(request, "address", 0, MAX_REGISTER, null);
        String type = text(request, "type", "U16");
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("device_id", deviceId);
        switch (functionCode) {
            case 3, 4 -> {
                parameters.put("function_code", Integer.toString(functionCode));
                parameters.put("address", Integer.toString(address));
                parameters.put("size", Integer.toString(integer(request, "size", 1, MAX_READ_SIZE, 1)));
                parameters.put("type", type);
                parameters.put("endianess", endianness(request));
                parameters.put("scale_factor", decimal(request, "scale_factor"));
            }
            case 16 -> {
                parameters.put("address", Integer.toString(address));
                parameters.put("function_code", "16");
                parameters.put("values", values(request));
                parameters.put("type", type);
            }
            default -> throw new InverterFailure("unsupported function_code " + functionCode
                    + ": 3 and 4 read registers, 16 writes them");
        }
        String query = parameters.entrySet().stream()
                .map(parameter -> parameter.getKey() + "=" + URLEncoder.encode(parameter.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return new ModbusCommand(functionCode, query);
    }

    private static int integer(JsonNode request, String field, int min, int max, Integer fallback) throws InverterFailure {
        JsonNode node = request.get(field);
        if (node == null || node.isNull()) {
            if (fallback == null) {
                throw new InverterFailure("missing field: " + field);
            }
            return fallback;
        }
        String digits = node.isIntegralNumber() ? node.asText()
                : node.isTextual() && INTEGER.matcher(node.asText().strip()).matches() ? node.asText().strip() : null;
        if (digits == null) {
            throw new InverterFailure(field + " must be an integer, got " + node);
        }
        BigDecimal value = new BigDecimal(digits);
        if (value.compareTo(BigDecimal.valueOf(min)) < 0 || value.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw new InverterFailure(field + " must be " + (max == Integer.MAX_VALUE ? "at least " + min
                    : "from " + min + " to " + max) + ", got " + node);
        }
        return value.intValueExact();
    }

    private static String deviceId(JsonNode request) throws InverterFailure {
        JsonNode node = request.get("device_id");
        if (node == null || node.isNull()) {
            throw new InverterFailure("missing field: device_id");
        }
        if (!(node.isTextual() || node.isIntegralNumber()) || node.asText().isBlank()) {
            throw new InverterFailure("device_id must be a non-empty string, got " + node);
        }
        return shortText("device_id", node.asText());
    }

    private static String text(JsonNode request, String field, String fallback) throws InverterFailure {
        JsonNode node = request.get(field);
        if (node == null || node.isNull()) {
            return fallback;
        }
        if (!node.isTextual() || node.asText().isBlank()) {
            throw new InverterFailure(field + " must be a non-empty string, got " + node);
        }
        return shortText(field, node.asText());
    }

    private static String shortText(String field, String text) throws InverterFailure {
        if (text.length() > MAX_TEXT_LENGTH) {
            throw new InverterFailure(field + " must be at most " + MAX_TEXT_LENGTH + " characters, got " + text.length());
        }
        return text;
    }

    private static String endianness(JsonNode request) throws InverterFailure {
        String endianness = text(request, "endianess", "big");
        if (!endianness.equals("big") && !endianness.equals("little")) {
            throw new InverterFailure("endianess must be \"big\" or \"little\", got \"" + endianness + "\"");
        }
        return endianness;
    }

    private static String decimal(JsonNode request, String field) throws InverterFailure {
        JsonNode node = request.get(field);
        if (node == null || node.isNull()) {
            return "1";
        }
        BigDecimal value = null;
        try {
            if (node.isNumber()) {
                value = node.decimalValue();
            } else if (node.isTextual() && node.asText().length() <= 2 * MAX_DECIMAL_DIGITS + 10) {
                value = new BigDecimal(node.asText().strip());
            }
        } catch (NumberFormatException notANumber) {
            // reported below like any other non-number
        }
        if (value == null) {
            throw new InverterFailure(field + " must be a number, got " + node);
        }
        if (value.precision() - value.scale() > MAX_DECIMAL_DIGITS || value.scale() > MAX_DECIMAL_DIGITS) {
            throw new InverterFailure(field + " must have at most " + MAX_DECIMAL_DIGITS + " digits before and after the point");
        }
        return value.toPlainString();
    }

    /** The web API wants the register values as one comma-separated string: 10,20,30. */
    private static String values(JsonNode request) throws InverterFailure {
        JsonNode node = request.get("values");
        if (node == null || node.isNull()) {
            throw new InverterFailure("missing field: values");
        }
        List<String> values = new ArrayList<>();
        if (node.isIntegralNumber()) {
            values.add(node.asText());
        } else if (node.isArray()) {
            for (JsonNode value : node) {
                values.add(value.isIntegralNumber() ? value.asText() : null);
            }
        } else if (node.isTextual()) {
            for (String value : node.asText().split(",", -1)) {
                values.add(INTEGER.matcher(value.strip()).matches() ? value.strip() : null);
            }
        }
        if (values.isEmpty() || values.contains(null)) {
            throw new InverterFailure("values must be an integer, a list of integers or a comma-separated string of integers, got " + node);
        }
        if (values.size() > MAX_WRITE_SIZE) {
            throw new InverterFailure("values: at most " + MAX_WRITE_SIZE + " in one write (Modbus function 16), got " + values.size());
        }
        return values.stream().map(value -> new BigDecimal(value).toPlainString()).collect(Collectors.joining(","));
    }
}
