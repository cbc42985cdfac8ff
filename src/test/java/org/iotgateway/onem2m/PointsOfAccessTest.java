package org.iotgateway.onem2m;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.iotgateway.mqtt.DynamicSubscriptions;
import org.iotgateway.mqtt.Subscription;
import org.iotgateway.mqtt.TopicFilter;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PointsOfAccessTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final PointsOfAccess pointsOfAccess = new PointsOfAccess();
    private final List<String> events = new ArrayList<>();
    /** What the route's subscriber answers when an AE is added: its subscription, granted at once unless a test holds it. */
    private CompletableFuture<Void> subscribed = CompletableFuture.completedFuture(null);
    private final DynamicSubscriptions.Subscriber route = new DynamicSubscriptions.Subscriber() {
        @Override
        public CompletableFuture<Void> subscribe(Subscription subscription) {
            events.add("+" + aeOf(subscription.filter()));
            return subscribed;
        }

        @Override
        public CompletableFuture<Void> unsubscribe(TopicFilter filter) {
            events.add("-" + aeOf(filter));
            return CompletableFuture.completedFuture(null);
        }
    };

    PointsOfAccessTest() {
        pointsOfAccess.attach(route);
    }

    /** The AE of its request topics' filter, /oneM2M/req/+/&lt;AE-ID&gt;/#. */
    private static String aeOf(TopicFilter filter) {
        assertThat(filter.toString()).matches("/oneM2M/req/\\+/[^/]+/#");
        return filter.toString().split("/")[4];
    }

    @Test
    void should_give_a_route_that_attaches_the_request_topics_of_the_aes_it_knows() {
        pointsOfAccess.setConfigured("CAE1=http://10.0.0.7:9000/notify");
        pointsOfAccess.detach(route);
        assertThat(pointsOfAccess.attach(route)).extracting(subscription -> subscription.filter().toString())
                .containsExactly("/oneM2M/req/+/CAE1/#");
        assertThat(pointsOfAccess.attach(route)).extracting(Subscription::qos).containsExactly(1);
    }

    private CompletableFuture<Void> learn(String request, String response) throws Exception {
        return pointsOfAccess.learn(JSON.readTree(request), JSON.readTree(response));
    }

    @Test
    void should_read_configured_aes_with_masked_ids() {
        pointsOfAccess.setConfigured("CAE1=http://10.0.0.7:9000/notify, /mn-cse-1/CAE2 = https://app.example/onem2m");
        assertThat(pointsOfAccess.of("CAE1")).isEqualTo(URI.create("http://10.0.0.7:9000/notify"));
        assertThat(pointsOfAccess.of("mn-cse-1:CAE2")).isEqualTo(URI.create("https://app.example/onem2m"));
        assertThat(pointsOfAccess.aes()).containsExactlyInAnyOrder("CAE1", "mn-cse-1:CAE2");
    }

    @Test
    void should_refuse_a_configured_entry_that_is_not_an_http_point_of_access() {
        assertThatThrownBy(() -> pointsOfAccess.setConfigured("CAE1=mqtt://broker:1883"))
                .hasMessage("'CAE1=mqtt://broker:1883' is not AE-ID=http(s)://host[:port][/path]");
        assertThatThrownBy(() -> pointsOfAccess.setConfigured("CAE1"))
                .hasMessage("'CAE1' is not AE-ID=http(s)://host[:port][/path]");
        assertThatThrownBy(() -> pointsOfAccess.setConfigured("C+=http://host/"))
                .hasMessage("AE-ID 'C+' cannot be a topic level");
    }

    @Test
    void should_learn_a_registration_its_update_and_its_deletion() throws Exception {
        learn("{\"op\":1,\"ty\":2,\"pc\":{\"m2m:ae\":{\"poa\":[\"mqtt://broker\",\"http://10.0.0.9:8000/n\"]}}}",
                "{\"rsc\":2001,\"pc\":{\"m2m:ae\":{\"aei\":\"CAE3\"}}}");
        assertThat(pointsOfAccess.of("CAE3")).isEqualTo(URI.create("http://10.0.0.9:8000/n"));

        learn("{\"op\":3,\"pc\":{\"m2m:ae\":{\"poa\":[\"http://10.0.0.9:8001/n\"]}}}",
                "{\"rsc\":2004,\"pc\":{\"m2m:ae\":{\"aei\":\"CAE3\",\"poa\":[\"http://10.0.0.9:8001/n\"]}}}");
        assertThat(pointsOfAccess.of("CAE3")).isEqualTo(URI.create("http://10.0.0.9:8001/n"));

        learn("{\"op\":4}", "{\"rsc\":2002,\"pc\":{\"m2m:ae\":{\"aei\":\"CAE3\"}}}");
        assertThat(pointsOfAccess.of("CAE3")).isNull();
        assertThat(events).containsExactly("+CAE3", "+CAE3", "-CAE3");
    }

    @Test
    void should_finish_learning_a_registration_only_when_its_requests_are_subscribed() throws Exception {
        subscribed = new CompletableFuture<>();
        CompletableFuture<Void> learned = learn("{\"op\":1,\"ty\":2,\"pc\":{\"m2m:ae\":{\"poa\":[\"http://10.0.0.9:8000/n\"]}}}",
                "{\"rsc\":2001,\"pc\":{\"m2m:ae\":{\"aei\":\"CAE6\"}}}");
        assertThat(learned).isNotDone();
        subscribed.complete(null);
        assertThat(learned).isCompleted();
    }

    @Test
    void should_ignore_failed_registrations_and_aes_without_an_http_point_of_access() throws Exception {
        learn("{\"op\":1,\"ty\":2,\"pc\":{\"m2m:ae\":{\"poa\":[\"http://10.0.0.9:8000/n\"]}}}", "{\"rsc\":4105,\"pc\":{\"m2m:dbg\":\"exists\"}}");
        learn("{\"op\":1,\"ty\":2,\"pc\":{\"m2m:ae\":{\"poa\":[\"mqtt://broker\"]}}}", "{\"rsc\":2001,\"pc\":{\"m2m:ae\":{\"aei\":\"CAE4\"}}}");
        learn("{\"op\":1,\"ty\":3,\"pc\":{\"m2m:cnt\":{}}}", "{\"rsc\":2001,\"pc\":{\"m2m:cnt\":{\"ri\":\"cnt1\"}}}");
        assertThat(pointsOfAccess.aes()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void should_not_learn_an_ae_whose_id_cannot_be_a_topic_level() throws Exception {
        // learning runs as the registration's answer goes back: it must neither throw nor hold that answer
        assertThat(learn("{\"op\":1,\"ty\":2,\"pc\":{\"m2m:ae\":{\"poa\":[\"http://10.0.0.9:8000/n\"]}}}",
                "{\"rsc\":2001,\"pc\":{\"m2m:ae\":{\"aei\":\"C#1\"}}}")).isCompleted();
        assertThat(pointsOfAccess.aes()).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void should_drop_an_ae_whose_update_leaves_no_http_point_of_access() throws Exception {
        pointsOfAccess.setConfigured("CAE5=http://10.0.0.5/n");
        JsonNode update = JSON.readTree("{\"op\":3,\"pc\":{\"m2m:ae\":{\"poa\":[\"mqtt://broker\"]}}}");
        pointsOfAccess.learn(update, JSON.readTree("{\"rsc\":2004,\"pc\":{\"m2m:ae\":{\"aei\":\"CAE5\",\"poa\":[\"mqtt://broker\"]}}}"));
        assertThat(pointsOfAccess.of("CAE5")).isNull();
    }
}
