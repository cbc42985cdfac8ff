package org.iotgateway.onem2m;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The XML serialization (TS-0004 / TS-0010 {@code xml}) as far as the bridge answers it: a request in XML is refused
 * with 4015, but in XML, so that its originator can read the answer: its header fields (op, to, fr, rqi, rvi) are
 * read to address the response, which is written as {@code m2m:rsp}. Lists of simple values are written as TS-0004's
 * space-separated lists. No DTD is read.
 */
final class XmlPrimitive {

    static final String NAMESPACE = "http://www.onem2m.org/xml/protocols";
    private static final Set<String> HEADER_FIELDS = Set.of("op", "to", "fr", "rqi", "rvi", "ty");

    private XmlPrimitive() {
    }

    /** The header fields of an XML request primitive. @throws Onem2mException 4000 when it is not well-formed XML */
    static ObjectNode readHeader(byte[] xml) throws Onem2mException {
        ObjectNode header = JsonNodeFactory.instance.objectNode();
        Element root;
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setExpandEntityReferences(false);
            root = factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml)).getDocumentElement();
        } catch (Exception e) {
            throw new Onem2mException(Onem2mException.BAD_REQUEST, "malformed XML: " + e.getMessage());
        }
        for (Node child = root.getFirstChild(); child != null; child = child.getNextSibling()) {
            String name = child.getLocalName() != null ? child.getLocalName() : child.getNodeName();
            if (child.getNodeType() == Node.ELEMENT_NODE && HEADER_FIELDS.contains(name)) {
                String text = child.getTextContent().strip();
                if (name.equals("op") || name.equals("ty")) {
                    header.put(name, text.matches("\\d{1,9}") ? Integer.parseInt(text) : -1);
                } else {
                    header.put(name, text);
                }
            }
        }
        return header;
    }

    /** A response primitive as {@code m2m:rsp}, or a resource ({"m2m:ae": {...}}) as its own element. */
    static byte[] write(JsonNode primitive) {
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        if (primitive.has("rsc") || primitive.size() != 1) {
            element(xml, "m2m:rsp", primitive, true);
        } else {
            Map.Entry<String, JsonNode> only = primitive.fields().next();
            element(xml, only.getKey(), only.getValue(), true);
        }
        return xml.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void element(StringBuilder xml, String name, JsonNode value, boolean root) {
        if (value.isArray() && !value.isEmpty() && !value.get(0).isContainerNode()) {
            StringBuilder list = new StringBuilder();
            value.forEach(item -> list.append(list.isEmpty() ? "" : " ").append(item.asText()));
            open(xml, name, root).append(escape(list.toString())).append("</").append(name).append('>');
        } else if (value.isArray()) {
            value.forEach(item -> element(xml, name, item, false));
        } else if (value.isObject()) {
            open(xml, name, root);
            for (Iterator<Map.Entry<String, JsonNode>> fields = value.fields(); fields.hasNext(); ) {
                Map.Entry<String, JsonNode> field = fields.next();
                element(xml, field.getKey(), field.getValue(), false);
            }
            xml.append("</").append(name).append('>');
        } else if (!value.isNull()) {
            open(xml, name, root).append(escape(value.asText())).append("</").append(name).append('>');
        }
    }

    private static StringBuilder open(StringBuilder xml, String name, boolean root) {
        xml.append('<').append(name);
        if (root) {
            xml.append(" xmlns:m2m=\"").append(NAMESPACE).append('"');
        }
        return xml.append('>');
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
