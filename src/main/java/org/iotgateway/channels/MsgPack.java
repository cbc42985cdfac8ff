package org.iotgateway.channels;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.msgpack.core.MessageFormat;
import org.msgpack.core.MessageInsufficientBufferException;
import org.msgpack.core.MessageIntegerOverflowException;
import org.msgpack.core.MessagePack;
import org.msgpack.core.MessagePackException;
import org.msgpack.core.MessagePacker;
import org.msgpack.core.MessageStringCodingException;
import org.msgpack.core.MessageUnpacker;
import org.msgpack.core.buffer.ArrayBufferOutput;

/**
 * The part of MessagePack that channels_redis writes (Python's {@code msgpack.packb(message, use_bin_type=True)}), on
 * msgpack-java: nil, booleans, integers in their smallest encoding, float64, str, bin, arrays and maps with string
 * keys. Decoded values are null, Boolean, Long, Double, String, byte[], List and Map (insertion-ordered); anything
 * else, including a map key that is not a string (Python's msgpack refuses those too), is a
 * {@link MalformedMessageException}.
 */
public final class MsgPack {

    /** Arrays and maps inside one another beyond this are refused (Channels' messages nest two or three deep). */
    public static final int MAX_DEPTH = 64;
    /** Invalid UTF-8 in a str is an error, not replacement characters. */
    private static final MessagePack.UnpackerConfig STRICT = new MessagePack.UnpackerConfig()
            .withActionOnMalformedString(CodingErrorAction.REPORT).withActionOnUnmappableString(CodingErrorAction.REPORT);

    private MsgPack() {
    }

    /** A message that cannot be decoded, with the reason. */
    public static final class MalformedMessageException extends Exception {
        MalformedMessageException(String reason) {
            super(reason, null, false, false);
        }
    }

    public static byte[] encode(Object value) {
        ArrayBufferOutput out = new ArrayBufferOutput(128);
        try (MessagePacker packer = MessagePack.newDefaultPacker(out)) {
            write(packer, value);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        return out.toByteArray();
    }

    /** Decodes one value that must fill {@code bytes} from {@code offset} to the end. */
    public static Object decode(byte[] bytes, int offset) throws MalformedMessageException {
        try (MessageUnpacker in = STRICT.newUnpacker(bytes, offset, bytes.length - offset)) {
            Object value = read(in, bytes, offset, 0);
            long rest = bytes.length - offset - in.getTotalReadBytes();
            if (rest > 0) {
                throw new MalformedMessageException(rest + " bytes after the msgpack value");
            }
            return value;
        } catch (MessageInsufficientBufferException e) {
            throw new MalformedMessageException("the msgpack value ends early");
        } catch (MessageIntegerOverflowException e) {
            throw new MalformedMessageException("an unsigned 64-bit integer above 2^63-1");
        } catch (MessageStringCodingException e) {
            throw new MalformedMessageException("a msgpack str that is not UTF-8");
        } catch (IOException | MessagePackException e) {
            throw new MalformedMessageException("not msgpack: " + e.getMessage());
        }
    }

    private static void write(MessagePacker out, Object value) throws IOException {
        if (value == null) {
            out.packNil();
        } else if (value instanceof Boolean flag) {
            out.packBoolean(flag);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            out.packLong(((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            // Python's floats are doubles: msgpack writes them as float64 whatever their value
            out.packDouble(((Number) value).doubleValue());
        } else if (value instanceof CharSequence text) {
            out.packString(text.toString());
        } else if (value instanceof byte[] bytes) {
            out.packBinaryHeader(bytes.length).writePayload(bytes);
        } else if (value instanceof List<?> list) {
            out.packArrayHeader(list.size());
            for (Object item : list) {
                write(out, item);
            }
        } else if (value instanceof Map<?, ?> map) {
            out.packMapHeader(map.size());
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if (!(entry.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("msgpack map keys must be strings, got " + entry.getKey());
                }
                out.packString(key);
                write(out, entry.getValue());
            }
        } else {
            throw new IllegalArgumentException("no msgpack form for " + value.getClass().getName());
        }
    }

    /**
     * Reads one value. Sizes are checked against the bytes that are left before anything is allocated for them, and
     * nesting is bounded: a message is what anyone with the channel layer's Redis can write, and a length field of
     * 2^31 or a value nested 200,000 deep must cost a refusal, not the heap or the stack.
     */
    private static Object read(MessageUnpacker in, byte[] bytes, int offset, int depth) throws IOException, MalformedMessageException {
        if (depth > MAX_DEPTH) {
            throw new MalformedMessageException("msgpack values nested deeper than " + MAX_DEPTH);
        }
        MessageFormat format = in.getNextFormat();
        if (format == MessageFormat.NEVER_USED) {
            throw notUsed(in, bytes, offset);
        }
        return switch (format.getValueType()) {
            case NIL -> {
                in.unpackNil();
                yield null;
            }
            case BOOLEAN -> in.unpackBoolean();
            case INTEGER -> in.unpackLong();
            case FLOAT -> in.unpackDouble();
            case STRING -> utf8(in.readPayload(available(in, bytes, offset, in.unpackRawStringHeader())));
            case BINARY -> in.readPayload(available(in, bytes, offset, in.unpackBinaryHeader()));
            case ARRAY -> {
                // each item takes at least one byte
                int size = available(in, bytes, offset, in.unpackArrayHeader());
                List<Object> list = new ArrayList<>(size);
                for (int i = 0; i < size; i++) {
                    list.add(read(in, bytes, offset, depth + 1));
                }
                yield list;
            }
            case MAP -> {
                int size = in.unpackMapHeader();
                available(in, bytes, offset, 2L * size);
                Map<String, Object> map = new LinkedHashMap<>();
                for (int i = 0; i < size; i++) {
                    if (!(read(in, bytes, offset, depth + 1) instanceof String key)) {
                        throw new MalformedMessageException("a msgpack map key that is not a string");
                    }
                    map.put(key, read(in, bytes, offset, depth + 1));
                }
                yield map;
            }
            default -> throw notUsed(in, bytes, offset);
        };
    }

    /** The size itself, when at least that many bytes are left; else the value ends early. */
    private static int available(MessageUnpacker in, byte[] bytes, int offset, long size) throws MalformedMessageException {
        if (size < 0 || size > bytes.length - offset - in.getTotalReadBytes()) {
            throw new MalformedMessageException("the msgpack value ends early");
        }
        return (int) size;
    }

    private static String utf8(byte[] text) throws MalformedMessageException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(text)).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedMessageException("a msgpack str that is not UTF-8");
        }
    }

    private static MalformedMessageException notUsed(MessageUnpacker in, byte[] bytes, int offset) {
        return new MalformedMessageException(String.format("msgpack type 0x%02x is not used by Channels",
                bytes[offset + (int) in.getTotalReadBytes()] & 0xff));
    }
}
