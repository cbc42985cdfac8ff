package org.iotgateway.onem2m;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.JsonNode;
import org.iotgateway.mqtt.DynamicSubscriptions;
import org.iotgateway.mqtt.Subscription;
import org.iotgateway.mqtt.TopicFilter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The application entities that are reached over HTTP: AE-ID (masked as in topics) → the {@code http(s)://} point of
 * access their notifications go to. Filled from the configuration and from the AE registrations the gateway carries
 * (its HTTP binding's CREATE, UPDATE and DELETE of an {@code m2m:ae}). The route that carries their requests
 * (notifications) to them subscribes their request topics from here ({@code from: mqtt:...?subscriptions=#<this bean>}).
 */
public class PointsOfAccess implements DynamicSubscriptions {

    private static final Logger LOG = LoggerFactory.getLogger(PointsOfAccess.class);

    private final Map<String, URI> byAe = new ConcurrentHashMap<>();
    /**
     * The addresses a learned AE is deleted by (CSE-relative: its AE-ID, its resource ID, its structured path), to
     * forget it when a DELETE's answer names no AE (the default result content of a DELETE is none).
     */
    private final Map<String, String> aeByAddress = new ConcurrentHashMap<>();
    private volatile Subscriber subscriber;
    /** MQTT 5 share group of the request topics, so that of several instances one carries each request; empty: none */
    private String shareGroup;

    /** {@code CAE1=http://10.0.0.7:9000/notify,CAE2=https://app.example/onem2m}; empty for none. */
    public void setConfigured(String configured) {
        if (configured == null || configured.isBlank()) {
            return;
        }
        for (String entry : configured.split(",")) {
            String[] parts = entry.trim().split("=", 2);
            URI poa = parts.length == 2 ? httpUri(parts[1].trim()) : null;
            if (parts[0].isBlank() || poa == null) {
                throw new IllegalArgumentException("'" + entry.trim() + "' is not AE-ID=http(s)://host[:port][/path]");
            }
            String aeId = OneM2mTopic.mask(parts[0].trim());
            if (!isTopicLevel(aeId)) {
                throw new IllegalArgumentException("AE-ID '" + parts[0].trim() + "' cannot be a topic level");
            }
            add(aeId, poa);
        }
    }

    /** Subscribes the AEs' request topics as shared subscriptions of this group (several instances); empty: plain. */
    public void setShareGroup(String shareGroup) {
        this.shareGroup = shareGroup;
    }

    /** The request topics of the AEs known now; those added later are subscribed through {@code subscriber}. */
    @Override
    public synchronized List<Subscription> attach(Subscriber subscriber) {
        this.subscriber = subscriber;
        return byAe.keySet().stream().map(this::requestsTo).toList();
    }

    @Override
    public synchronized void detach(Subscriber subscriber) {
        if (this.subscriber == subscriber) {
            this.subscriber = null;
        }
    }

    private Subscription requestsTo(String maskedAeId) {
        return new Subscription(TopicFilter.parse("/oneM2M/req/+/" + maskedAeId + "/#", shareGroup), 1);
    }

    /** The point of access of an AE, or null when it is not reached over HTTP here. */
    public URI of(String maskedAeId) {
        return byAe.get(maskedAeId);
    }

    public Set<String> aes() {
        return Set.copyOf(byAe.keySet());
    }

    /**
     * Learns from a request the gateway carried and its response: a registered AE with an HTTP point of access is
     * added, an update replaces or removes its point of access, a deleted AE is removed.
     *
     * @return completes when the watcher has taken a newly added AE's requests from the broker; at once otherwise
     */
    public CompletableFuture<Void> learn(JsonNode request, JsonNode response) {
        int op = request.path("op").asInt();
        int rsc = response.path("rsc").asInt();
        JsonNode answered = response.path("pc").path("m2m:ae");
        String aeId = answered.path("aei").asText("");
        if (op == 4 && rsc == 2002) {
            String deleted = aeId.isEmpty() ? aeByAddress.get(cseRelative(request.path("to").asText())) : OneM2mTopic.mask(aeId);
            if (deleted != null) {
                remove(deleted);
            }
            return CompletableFuture.completedFuture(null);
        }
        if (aeId.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        String masked = OneM2mTopic.mask(aeId);
        JsonNode asked = request.path("pc").path("m2m:ae").path("poa");
        URI poa = firstHttp(answered.has("poa") ? answered.get("poa") : asked);
        if ((op == 1 && rsc == 2001 && request.path("ty").asInt() == 2) || (op == 3 && rsc == 2004)) {
            if (poa != null && isTopicLevel(masked)) {
                if (op == 1) {
                    String name = answered.path("rn").asText(request.path("pc").path("m2m:ae").path("rn").asText(""));
                    addresses(masked, aeId, answered.path("ri").asText(""),
                            name.isEmpty() ? "" : cseRelative(request.path("to").asText()) + "/" + name);
                }
                return add(masked, poa);
            } else if (poa != null) {
                // the CSE's answer goes back to the AE all the same; only its notifications cannot be carried
                LOG.warn("oneM2M: AE-ID '{}' cannot be a topic level: its notifications are not taken from the broker", aeId);
            } else if (op == 3 && (answered.has("poa") || asked.isArray())) {
                remove(masked);
            }
        }
        return CompletableFuture.completedFuture(null);
    }

    private void addresses(String maskedAeId, String... addresses) {
        for (String address : addresses) {
            if (!address.isEmpty()) {
                aeByAddress.put(cseRelative(address), maskedAeId);
            }
        }
    }

    /** {@code //sp/cse/x} and {@code /cse/x} → {@code x}: the address relative to the CSE that hosts it. */
    static String cseRelative(String to) {
        if (to.startsWith("//")) {
            String[] parts = to.substring(2).split("/", 3);
            return parts.length == 3 ? parts[2] : "";
        }
        if (to.startsWith("/")) {
            int slash = to.indexOf('/', 1);
            return slash < 0 ? "" : to.substring(slash + 1);
        }
        return to;
    }

    private static boolean isTopicLevel(String maskedAeId) {
        return !maskedAeId.contains("+") && !maskedAeId.contains("#");
    }

    private CompletableFuture<Void> add(String maskedAeId, URI poa) {
        Subscriber current = subscriber;
        if (poa.equals(byAe.put(maskedAeId, poa)) || current == null) {
            return CompletableFuture.completedFuture(null);
        }
        LOG.info("oneM2M: requests for {} go to its point of access {}", maskedAeId, poa);
        return current.subscribe(requestsTo(maskedAeId)).exceptionally(failure -> {
            LOG.warn("oneM2M: cannot subscribe to the requests for {}: {}", maskedAeId, failure.getMessage());
            return null;
        });
    }

    private void remove(String maskedAeId) {
        aeByAddress.values().removeIf(maskedAeId::equals);
        Subscriber current = subscriber;
        if (byAe.remove(maskedAeId) != null && current != null) {
            LOG.info("oneM2M: {} is no longer reached over HTTP here", maskedAeId);
            current.unsubscribe(requestsTo(maskedAeId).filter());
        }
    }

    private static URI firstHttp(JsonNode pointsOfAccess) {
        if (pointsOfAccess != null && pointsOfAccess.isArray()) {
            for (JsonNode poa : pointsOfAccess) {
                URI uri = httpUri(poa.asText());
                if (uri != null) {
                    return uri;
                }
            }
        }
        return null;
    }

    private static URI httpUri(String text) {
        try {
            URI uri = new URI(text);
            boolean http = "http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme());
            return http && uri.getHost() != null ? uri : null;
        } catch (URISyntaxException e) {
            return null;
        }
    }
}
