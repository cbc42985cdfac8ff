package org.iotgateway.onem2m;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;

/**
 * The serializations of primitives the binding speaks: JSON and CBOR (TS-0010 topic suffix {@code json}/{@code cbor},
 * TS-0009 {@code application/json}/{@code application/cbor}). XML requests are refused with 4015, in XML
 * ({@link XmlPrimitive}): reading one gives only its header fields.
 */
enum Serialization {
    JSON("json", "application/json", new ObjectMapper()),
    CBOR("cbor", "application/cbor", new ObjectMapper(new CBORFactory())),
    XML("xml", "application/xml", new ObjectMapper());

    private final String suffix;
    private final String mediaType;
    private final ObjectMapper mapper;

    Serialization(String suffix, String mediaType, ObjectMapper mapper) {
        this.suffix = suffix;
        this.mediaType = mediaType;
        this.mapper = mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    }

    /** By a topic's last level; none (OpenMTC's responses) is JSON. */
    static Serialization ofTopicSuffix(String suffix) throws Onem2mException {
        if (suffix == null || suffix.equals("json")) {
            return JSON;
        }
        if (suffix.equals("cbor")) {
            return CBOR;
        }
        if (suffix.equals("xml")) {
            return XML;
        }
        throw new Onem2mException(Onem2mException.UNSUPPORTED_MEDIA_TYPE, "serialization '" + suffix
                + "' is not supported: this bridge speaks JSON and CBOR");
    }

    /** The refusal of a primitive in this serialization, or null when the bridge carries it. */
    Onem2mException refusal() {
        return this == XML ? new Onem2mException(Onem2mException.UNSUPPORTED_MEDIA_TYPE,
                "XML primitives are not supported: this bridge speaks JSON and CBOR") : null;
    }

    /** By an HTTP Content-Type or Accept header ({@code application/json;ty=2}, {@code application/cbor}); null for none. */
    static Serialization ofMediaType(String header) {
        if (header == null) {
            return null;
        }
        String type = header.toLowerCase(Locale.ROOT);
        return type.contains("cbor") ? CBOR : type.contains("json") ? JSON : type.contains("xml") ? XML : null;
    }

    String suffix() {
        return suffix;
    }

    String mediaType() {
        return mediaType;
    }

    /** No content, or only white space, reads as a missing node. @throws Onem2mException 4000 naming what is malformed */
    JsonNode read(byte[] bytes) throws Onem2mException {
        if (this == XML) {
            return XmlPrimitive.readHeader(bytes);
        }
        try {
            return mapper.readTree(bytes);
        } catch (IOException e) {
            String message = e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage();
            String firstLine = message == null ? e.toString() : message.lines().findFirst().orElse(message);
            throw new Onem2mException(Onem2mException.BAD_REQUEST, "malformed " + name() + ": " + firstLine);
        }
    }

    byte[] write(JsonNode primitive) {
        if (this == XML) {
            return XmlPrimitive.write(primitive);
        }
        if (this == JSON) {
            return primitive.toString().getBytes(StandardCharsets.UTF_8);
        }
        try {
            return mapper.writeValueAsBytes(primitive);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
