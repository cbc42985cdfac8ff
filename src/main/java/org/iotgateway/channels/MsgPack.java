package org.iotgateway.channels;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.BufferUnderflowException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The part of MessagePack that channels_redis writes (Python's {@code msgpack.packb(message, use_bin_type=True)}):
 * nil, booleans, integers in their smallest encoding, float64, str, bin, arrays and maps with string keys. Decoded
 * values are null, Boolean, Long, Double, String, byte[], List and Map (insertion-ordered); anything else, including a
 * map key that is not a string (Python's msgpack refuses those too), is a {@link MalformedMessageException}.
 */
public final class MsgPack {

    private MsgPack() {
    }

    /** A message that cannot be decoded, with the reason. */
    public static final class MalformedMessageException extends Exception {
        MalformedMessageException(String reason) {
            super(reason, null, false, false);
        }
    }

    public static byte[] encode(Object value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(128);
        write(out, value);
        return out.toByteArray();
    }

    /** Decodes one value that must fill {@code bytes} from {@code offset} to the end. */
    public static Object decode(byte[] bytes, int offset) throws MalformedMessageException {
        ByteBuffer in = ByteBuffer.wrap(bytes, offset, bytes.length - offset);
        try {
            Object value = read(in);
            if (in.hasRemaining()) {
                throw new MalformedMessageException(in.remaining() + " bytes after the msgpack value");
            }
            return value;
        } catch (BufferUnderflowException | IndexOutOfBoundsException e) {
            throw new MalformedMessageException("the msgpack value ends early");
        }
    }

    private static void write(ByteArrayOutputStream out, Object value) {
        if (value == null) {
            out.write(0xc0);
        } else if (value instanceof Boolean flag) {
            out.write(flag ? 0xc3 : 0xc2);
        } else if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            writeInteger(out, ((Number) value).longValue());
        } else if (value instanceof Double || value instanceof Float) {
            out.write(0xcb);
            writeBytes(out, ByteBuffer.allocate(8).putDouble(((Number) value).doubleValue()).array());
        } else if (value instanceof CharSequence text) {
            byte[] utf8 = text.toString().getBytes(StandardCharsets.UTF_8);
            writeHeader(out, utf8.length, 0xa0, 31, 0xd9, 0xda, 0xdb);
            writeBytes(out, utf8);
        } else if (value instanceof byte[] bytes) {
            writeHeader(out, bytes.length, -1, -1, 0xc4, 0xc5, 0xc6);
            writeBytes(out, bytes);
        } else if (value instanceof List<?> list) {
            writeHeader(out, list.size(), 0x90, 15, -1, 0xdc, 0xdd);
            list.forEach(item -> write(out, item));
        } else if (value instanceof Map<?, ?> map) {
            writeHeader(out, map.size(), 0x80, 15, -1, 0xde, 0xdf);
            map.forEach((key, item) -> {
                if (!(key instanceof String)) {
                    throw new IllegalArgumentException("msgpack map keys must be strings, got " + key);
                }
                write(out, key);
                write(out, item);
            });
        } else {
            throw new IllegalArgumentException("no msgpack form for " + value.getClass().getName());
        }
    }

    private static void writeInteger(ByteArrayOutputStream out, long value) {
        if (value >= 0) {
            if (value < 0x80) {
                out.write((int) value);
            } else if (value < 0x100) {
                out.write(0xcc);
                out.write((int) value);
            } else if (value < 0x10000) {
                out.write(0xcd);
                writeBytes(out, ByteBuffer.allocate(2).putShort((short) value).array());
            } else if (value < 0x100000000L) {
                out.write(0xce);
                writeBytes(out, ByteBuffer.allocate(4).putInt((int) value).array());
            } else {
                out.write(0xcf);
                writeBytes(out, ByteBuffer.allocate(8).putLong(value).array());
            }
        } else if (value >= -32) {
            out.write((int) value & 0xff);
        } else if (value >= Byte.MIN_VALUE) {
            out.write(0xd0);
            out.write((int) value & 0xff);
        } else if (value >= Short.MIN_VALUE) {
            out.write(0xd1);
            writeBytes(out, ByteBuffer.allocate(2).putShort((short) value).array());
        } else if (value >= Integer.MIN_VALUE) {
            out.write(0xd2);
            writeBytes(out, ByteBuffer.allocate(4).putInt((int) value).array());
        } else {
            out.write(0xd3);
            writeBytes(out, ByteBuffer.allocate(8).putLong(value).array());
        }
    }

    /** The smallest header for a length: fix form (when {@code fixBase} >= 0), then 8, 16 and 32 bits. */
    private static void writeHeader(ByteArrayOutputStream out, int length, int fixBase, int fixMax, int code8, int code16, int code32) {
        if (fixBase >= 0 && length <= fixMax) {
            out.write(fixBase | length);
        } else if (code8 >= 0 && length < 0x100) {
            out.write(code8);
            out.write(length);
        } else if (length < 0x10000) {
            out.write(code16);
            writeBytes(out, ByteBuffer.allocate(2).putShort((short) length).array());
        } else {
            out.write(code32);
            writeBytes(out, ByteBuffer.allocate(4).putInt(length).array());
        }
    }

    private static void writeBytes(ByteArrayOutputStream out, byte[] bytes) {
        out.write(bytes, 0, bytes.length);
    }

    private static Object read(ByteBuffer in) throws MalformedMessageException {
        int code = in.get() & 0xff;
        if (code <= 0x7f) {
            return (long) code;
        }
        if (code >= 0xe0) {
            return (long) (byte) code;
        }
        if (code >= 0xa0 && code <= 0xbf) {
            return text(in, code & 0x1f);
        }
        if (code >= 0x90 && code <= 0x9f) {
            return array(in, code & 0x0f);
        }
        if (code >= 0x80 && code <= 0x8f) {
            return map(in, code & 0x0f);
        }
        return switch (code) {
            case 0xc0 -> null;
            case 0xc2 -> false;
            case 0xc3 -> true;
            case 0xcc -> (long) (in.get() & 0xff);
            case 0xcd -> (long) (in.getShort() & 0xffff);
            case 0xce -> in.getInt() & 0xffffffffL;
            case 0xcf -> {
                long value = in.getLong();
                if (value < 0) {
                    throw new MalformedMessageException("an unsigned 64-bit integer above 2^63-1");
                }
                yield value;
            }
            case 0xd0 -> (long) in.get();
            case 0xd1 -> (long) in.getShort();
            case 0xd2 -> (long) in.getInt();
            case 0xd3 -> in.getLong();
            case 0xca -> (double) in.getFloat();
            case 0xcb -> in.getDouble();
            case 0xd9 -> text(in, in.get() & 0xff);
            case 0xda -> text(in, in.getShort() & 0xffff);
            case 0xdb -> text(in, length(in.getInt()));
            case 0xc4 -> bytes(in, in.get() & 0xff);
            case 0xc5 -> bytes(in, in.getShort() & 0xffff);
            case 0xc6 -> bytes(in, length(in.getInt()));
            case 0xdc -> array(in, in.getShort() & 0xffff);
            case 0xdd -> array(in, length(in.getInt()));
            case 0xde -> map(in, in.getShort() & 0xffff);
            case 0xdf -> map(in, length(in.getInt()));
            default -> throw new MalformedMessageException(String.format("msgpack type 0x%02x is not used by Channels", code));
        };
    }

    private static int length(int length) throws MalformedMessageException {
        if (length < 0) {
            throw new MalformedMessageException("a msgpack length above 2^31");
        }
        return length;
    }

    private static byte[] bytes(ByteBuffer in, int length) {
        byte[] bytes = new byte[length];
        in.get(bytes);
        return bytes;
    }

    private static String text(ByteBuffer in, int length) throws MalformedMessageException {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes(in, length))).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedMessageException("a msgpack str that is not UTF-8");
        }
    }

    private static List<Object> array(ByteBuffer in, int size) throws MalformedMessageException {
        List<Object> list = new ArrayList<>(Math.min(size, 1024));
        for (int i = 0; i < size; i++) {
            list.add(read(in));
        }
        return list;
    }

    private static Map<String, Object> map(ByteBuffer in, int size) throws MalformedMessageException {
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < size; i++) {
            if (!(read(in) instanceof String key)) {
                throw new MalformedMessageException("a msgpack map key that is not a string");
            }
            map.put(key, read(in));
        }
        return map;
    }
}
