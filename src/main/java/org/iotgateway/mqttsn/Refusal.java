package org.iotgateway.mqttsn;

/**
 * Why a valid message was refused by a limit, answered on the wire with the return code given; the lower-case name is
 * the {@code reason} label of {@code mqttsn_refused_total}.
 */
enum Refusal {
    /** CONNECT with a client id longer than maxClientIdLength: CONNACK rc 3. */
    CLIENT_ID_LENGTH,
    /** CONNECT of a new client id at an address that already has maxClientsPerAddress: CONNACK rc 1. */
    CLIENTS_PER_ADDRESS,
    /** CONNECT of a client the gateway does not hold while the store has maxStoreKeys keys: CONNACK rc 1. */
    STORE_FULL,
    /** REGISTER, will topic or SUBSCRIBE with a wildcard, empty or too long topic name: rc 3. */
    TOPIC_NAME,
    /** REGISTER beyond maxTopicsPerClient names: REGACK rc 3. */
    TOPICS_PER_CLIENT,
    /** QoS -1 PUBLISH with a short topic name from a source not in qosMinusOneSources and not connected: PUBACK rc 3. */
    QOS_MINUS_ONE_SOURCE;

    private final String label = name().toLowerCase(java.util.Locale.ROOT);
    /** What the log says such a refusal is: made once, as a sender may be refused at the flood limit's rate. */
    private final String logReason = "refused (" + label + ")";

    String label() {
        return label;
    }

    String logReason() {
        return logReason;
    }
}
