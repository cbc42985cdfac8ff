package org.iotgateway.mqtt;

/** Names of the MQTT 5.0 reason codes (§2.4) a broker answers CONNECT, SUBSCRIBE, PUBLISH and DISCONNECT with. */
final class ReasonCodes {

    private ReasonCodes() {
    }

    static String describe(int code) {
        String name = switch (code) {
            case 0x00 -> "success";
            case 0x04 -> "disconnect with will message";
            case 0x10 -> "no matching subscribers";
            case 0x80 -> "unspecified error";
            case 0x81 -> "malformed packet";
            case 0x82 -> "protocol error";
            case 0x83 -> "implementation specific error";
            case 0x84 -> "unsupported protocol version";
            case 0x85 -> "client identifier not valid";
            case 0x86 -> "bad user name or password";
            case 0x87 -> "not authorized";
            case 0x88 -> "server unavailable";
            case 0x89 -> "server busy";
            case 0x8A -> "banned";
            case 0x8B -> "server shutting down";
            case 0x8D -> "keep alive timeout";
            case 0x8E -> "session taken over";
            case 0x8F -> "topic filter invalid";
            case 0x90 -> "topic name invalid";
            case 0x91 -> "packet identifier in use";
            case 0x97 -> "quota exceeded";
            case 0x99 -> "payload format invalid";
            case 0x9A -> "retain not supported";
            case 0x9B -> "QoS not supported";
            case 0x9C -> "use another server";
            case 0x9E -> "shared subscriptions not supported";
            case 0x9F -> "connection rate exceeded";
            case 0xA1 -> "subscription identifiers not supported";
            case 0xA2 -> "wildcard subscriptions not supported";
            default -> "reason";
        };
        return name + " (0x" + Integer.toHexString(code).toUpperCase() + ")";
    }
}
