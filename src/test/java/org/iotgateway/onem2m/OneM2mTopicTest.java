package org.iotgateway.onem2m;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TS-0010 topics and ID masking, on the topics of the captured OpenMTC exchanges (shared/reference/vectors). */
class OneM2mTopicTest {

    /** The request/response pairs OpenMTC's gateway exchanged over Mosquitto. */
    static List<JsonNode> openMtcPairs() throws Exception {
        JsonNode capture = new ObjectMapper().readTree(Path.of("..", "shared", "reference", "vectors", "openmtc-pairs.json").toFile());
        List<JsonNode> pairs = new ArrayList<>();
        capture.path("openmtc_gateway_mn-cse-1").forEach(pairs::add);
        return pairs;
    }

    @Test
    void should_answer_every_captured_request_on_the_topic_openmtc_answered_on() throws Exception {
        int answered = 0;
        for (JsonNode pair : openMtcPairs()) {
            OneM2mTopic request = OneM2mTopic.parse(pair.path("request").path("topic").asText());
            assertThat(request.isRequest()).isTrue();
            String responseTopic = pair.path("response").path("topic").asText(null);
            if (responseTopic != null) {
                OneM2mTopic response = OneM2mTopic.parse(responseTopic);
                assertThat(response.isRequest()).isFalse();
                // OpenMTC leaves the suffix out of its responses, except on a notification it answers as an AE
                assertThat(request.responseTopic(response.serialization() == null)).isEqualTo(responseTopic);
                answered++;
            }
        }
        assertThat(answered).isGreaterThan(10);
    }

    @Test
    void should_parse_kind_originator_receiver_and_serialization() throws Exception {
        OneM2mTopic notification = OneM2mTopic.parse("/oneM2M/req/mn-cse-1/mn-cse-1:CAE1/json");
        assertThat(notification).isEqualTo(new OneM2mTopic("req", "mn-cse-1", "mn-cse-1:CAE1", "json"));
        assertThat(OneM2mTopic.parse("/oneM2M/reg_req/cred1/mn-cse-1/json").responseTopic(false))
                .isEqualTo("/oneM2M/reg_resp/cred1/mn-cse-1/json");
        assertThat(OneM2mTopic.parse("/oneM2M/resp/CAE1/mn-cse-1").serialization()).isNull();
        assertThat(OneM2mTopic.parse("/oneM2M/req/CAE1/mn-cse-1/cbor").responseTopic(false)).isEqualTo("/oneM2M/resp/CAE1/mn-cse-1/cbor");
    }

    @Test
    void should_refuse_what_is_not_a_onem2m_topic_with_4000() {
        assertThatThrownBy(() -> OneM2mTopic.parse("oneM2M/req/a/b/json")).hasMessage("not a oneM2M topic: oneM2M/req/a/b/json")
                .extracting(e -> ((Onem2mException) e).rsc()).isEqualTo(4000);
        assertThatThrownBy(() -> OneM2mTopic.parse("/oneM2M/request/a/b/json")).hasMessage("unknown oneM2M topic kind 'request' in /oneM2M/request/a/b/json");
        assertThatThrownBy(() -> OneM2mTopic.parse("/oneM2M/req//b/json")).hasMessage("empty originator or receiver in /oneM2M/req//b/json");
        assertThatThrownBy(() -> OneM2mTopic.parse("/oneM2M/req/a/b/json/extra")).hasMessage("not a oneM2M topic: /oneM2M/req/a/b/json/extra");
    }

    @Test
    void should_mask_ids_as_the_captured_topics_do() {
        assertThat(OneM2mTopic.mask("/mn-cse-1/CAE2")).isEqualTo("mn-cse-1:CAE2");
        assertThat(OneM2mTopic.mask("/mn-cse-1/CAE1")).isEqualTo("mn-cse-1:CAE1");
        assertThat(OneM2mTopic.mask("//openmtc.org/mn-cse-1")).isEqualTo(":openmtc.org:mn-cse-1");
        assertThat(OneM2mTopic.mask("CAE1")).isEqualTo("CAE1");
        assertThat(OneM2mTopic.requestTopic("/mn-cse-1/CAE2", "mn-cse-1")).isEqualTo("/oneM2M/req/mn-cse-1:CAE2/mn-cse-1/json");
    }
}
