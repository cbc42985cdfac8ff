package org.iotgateway.onem2m;

/**
 * A TS-0010 topic: {@code /oneM2M/<kind>/<originator>/<receiver>[/<serialization>]}, kind {@code req}, {@code resp},
 * {@code reg_req} or {@code reg_resp}, serialization {@code json}, {@code xml} or {@code cbor} (absent in OpenMTC's
 * responses). IDs in topics are masked: the leading {@code /} removed and the others replaced by {@code :}.
 */
public record OneM2mTopic(String kind, String originator, String receiver, String serialization) {

    /** @throws Onem2mException 4000 naming what is wrong */
    public static OneM2mTopic parse(String topic) throws Onem2mException {
        String[] levels = topic.split("/", -1);
        if (levels.length < 5 || levels.length > 6 || !levels[0].isEmpty() || !levels[1].equals("oneM2M")) {
            throw new Onem2mException(Onem2mException.BAD_REQUEST, "not a oneM2M topic: " + topic);
        }
        String kind = levels[2];
        if (!kind.equals("req") && !kind.equals("resp") && !kind.equals("reg_req") && !kind.equals("reg_resp")) {
            throw new Onem2mException(Onem2mException.BAD_REQUEST, "unknown oneM2M topic kind '" + kind + "' in " + topic);
        }
        if (levels[3].isEmpty() || levels[4].isEmpty()) {
            throw new Onem2mException(Onem2mException.BAD_REQUEST, "empty originator or receiver in " + topic);
        }
        return new OneM2mTopic(kind, levels[3], levels[4], levels.length == 6 ? levels[5] : null);
    }

    public boolean isRequest() {
        return kind.equals("req") || kind.equals("reg_req");
    }

    /**
     * The response topic for this request topic, from its own segments (not from {@code fr}/{@code to}), with the
     * same serialization; {@code withoutSuffix} gives OpenMTC's form.
     */
    public String responseTopic(boolean withoutSuffix) {
        String responseKind = kind.equals("reg_req") ? "reg_resp" : "resp";
        return "/oneM2M/" + responseKind + "/" + originator + "/" + receiver
                + (withoutSuffix || serialization == null ? "" : "/" + serialization);
    }

    public static String requestTopic(String originator, String receiver) {
        return "/oneM2M/req/" + mask(originator) + "/" + mask(receiver) + "/json";
    }

    /** {@code /mn-cse-1/CAE1} → {@code mn-cse-1:CAE1}; {@code //sp.com/in-cse} → {@code :sp.com:in-cse}; {@code CAE1} stays. */
    public static String mask(String id) {
        String relative = id.startsWith("/") ? id.substring(1) : id;
        return relative.replace('/', ':');
    }
}
