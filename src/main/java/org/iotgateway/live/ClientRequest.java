package org.iotgateway.live;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.iotgateway.mqtt.TopicFilter;

/**
 * What a browser may send on the feed's WebSocket, each a JSON object with an optional {@code id} echoed in the reply:
 * {@code {"subscribe":["sensor/#"]}}, {@code {"unsubscribe":["sensor/#"]}} and
 * {@code {"publish":{"topic":"t","payload":"text","qos":1,"retain":false}}} (add {@code "encoding":"base64"} for bytes),
 * and {@code {"status":true}}: the feed's status now and whenever it changes ({@code false} stops that).
 */
public sealed interface ClientRequest {

    ObjectMapper MAPPER = new ObjectMapper();

    JsonNode id();

    record Subscribe(JsonNode id, List<TopicFilter> filters) implements ClientRequest {
    }

    record Unsubscribe(JsonNode id, List<TopicFilter> filters) implements ClientRequest {
    }

    record Publish(JsonNode id, String topic, byte[] payload, int qos, boolean retain) implements ClientRequest {
    }

    record Status(JsonNode id, boolean watch) implements ClientRequest {
    }

    /** A request that cannot be carried out; the message goes back to the browser as {@code {"error":…}}. */
    final class Invalid extends Exception {
        private final JsonNode id;

        Invalid(JsonNode id, String message) {
            super(message, null, false, false);
            this.id = id;
        }

        public JsonNode id() {
            return id;
        }
    }

    static ClientRequest parse(String text) throws Invalid {
        JsonNode root;
        try {
            root = MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            throw new Invalid(null, "not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new Invalid(null, "a request is a JSON object with one of subscribe, unsubscribe, publish, status");
        }
        JsonNode id = root.get("id");
        if (root.has("subscribe")) {
            return new Subscribe(id, filters(id, root.get("subscribe"), "subscribe"));
        }
        if (root.has("unsubscribe")) {
            return new Unsubscribe(id, filters(id, root.get("unsubscribe"), "unsubscribe"));
        }
        if (root.has("publish")) {
            return publish(id, root.get("publish"));
        }
        if (root.has("status")) {
            if (!root.get("status").isBoolean()) {
                throw new Invalid(id, "status: true to receive the feed's status now and as it changes, false to stop");
            }
            return new Status(id, root.get("status").asBoolean());
        }
        List<String> fields = new ArrayList<>();
        root.fieldNames().forEachRemaining(fields::add);
        throw new Invalid(id, "unknown request " + fields + ": expected subscribe, unsubscribe, publish or status");
    }

    private static List<TopicFilter> filters(JsonNode id, JsonNode node, String field) throws Invalid {
        List<TopicFilter> filters = new ArrayList<>();
        Iterator<JsonNode> elements = node.isArray() ? node.elements() : List.of(node).iterator();
        while (elements.hasNext()) {
            JsonNode element = elements.next();
            if (!element.isTextual()) {
                throw new Invalid(id, field + ": topic filters are strings, got " + element);
            }
            try {
                filters.add(TopicFilter.parse(element.asText()));
            } catch (IllegalArgumentException e) {
                throw new Invalid(id, field + ": " + e.getMessage());
            }
        }
        if (filters.isEmpty()) {
            throw new Invalid(id, field + ": no topic filter given");
        }
        return filters;
    }

    private static Publish publish(JsonNode id, JsonNode node) throws Invalid {
        if (!node.isObject()) {
            throw new Invalid(id, "publish: expected {\"topic\",\"payload\",\"qos\",\"retain\"}");
        }
        JsonNode topic = node.get("topic");
        if (topic == null || !topic.isTextual()) {
            throw new Invalid(id, "publish: topic is missing or not a string");
        }
        try {
            TopicFilter.checkTopicName(topic.asText());
        } catch (IllegalArgumentException e) {
            throw new Invalid(id, "publish: " + e.getMessage());
        }
        JsonNode payload = node.get("payload");
        byte[] bytes;
        if (payload == null || payload.isNull()) {
            bytes = new byte[0];
        } else if (payload.isTextual()) {
            bytes = payload.asText().getBytes(StandardCharsets.UTF_8);
        } else if (payload.isContainerNode() || payload.isValueNode()) {
            // a JSON value is sent as its JSON text
            bytes = payload.toString().getBytes(StandardCharsets.UTF_8);
        } else {
            throw new Invalid(id, "publish: payload is not a string");
        }
        JsonNode encoding = node.get("encoding");
        if (encoding != null && !encoding.isNull()) {
            if (!"base64".equals(encoding.asText()) || !payload.isTextual()) {
                throw new Invalid(id, "publish: encoding must be \"base64\" with a string payload");
            }
            try {
                bytes = Base64.getDecoder().decode(payload.asText());
            } catch (IllegalArgumentException e) {
                throw new Invalid(id, "publish: payload is not base64: " + e.getMessage());
            }
        }
        JsonNode qos = node.get("qos");
        int qosValue = 0;
        if (qos != null && !qos.isNull()) {
            if (!qos.canConvertToInt() || !qos.isIntegralNumber() || qos.asInt() < 0 || qos.asInt() > 2) {
                throw new Invalid(id, "publish: qos must be 0, 1 or 2, got " + qos);
            }
            qosValue = qos.asInt();
        }
        JsonNode retain = node.get("retain");
        if (retain != null && !retain.isNull() && !retain.isBoolean()) {
            throw new Invalid(id, "publish: retain must be true or false, got " + retain);
        }
        return new Publish(id, topic.asText(), bytes, qosValue, retain != null && retain.asBoolean());
    }

    /** A reply: {@code {"id":…,"<field>":value}}. */
    static String reply(JsonNode id, String field, Object value) {
        ObjectNode reply = MAPPER.createObjectNode();
        if (id != null) {
            reply.set("id", id);
        }
        reply.set(field, MAPPER.valueToTree(value));
        return reply.toString();
    }
}
