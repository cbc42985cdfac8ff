package org.iotgateway.inverter;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModbusCommandTest {

    private static ModbusCommand parse(String json) throws InverterFailure {
        return ModbusCommand.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void should_put_read_parameters_in_the_originals_order_with_its_defaults() throws Exception {
        assertThat(parse("{\"scale_factor\":0.1,\"address\":10056,\"function_code\":3,\"device_id\":\"A2332407312\"}").query())
                .isEqualTo("device_id=A2332407312&function_code=3&address=10056&size=1&type=U16&endianess=big&scale_factor=0.1");
        assertThat(parse("{\"function_code\":4,\"device_id\":\"A 1\",\"address\":5,\"size\":\"2\",\"type\":\"S32\",\"endianess\":\"little\"}").query())
                .isEqualTo("device_id=A+1&function_code=4&address=5&size=2&type=S32&endianess=little&scale_factor=1");
    }

    @Test
    void should_send_write_values_as_the_comma_string_the_api_wants() throws Exception {
        assertThat(parse("{\"function_code\":16,\"device_id\":\"d\",\"address\":0,\"values\":170}").query())
                .isEqualTo("device_id=d&address=0&function_code=16&values=170&type=U16");
        assertThat(parse("{\"function_code\":\"16\",\"device_id\":\"d\",\"address\":1,\"values\":[10,-20,30]}").query())
                .isEqualTo("device_id=d&address=1&function_code=16&values=10%2C-20%2C30&type=U16");
        assertThat(parse("{\"function_code\":16,\"device_id\":\"d\",\"address\":1,\"values\":\" 10, 20 ,+30\"}").query())
                .isEqualTo("device_id=d&address=1&function_code=16&values=10%2C20%2C30&type=U16");
    }

    @Test
    void should_accept_register_zero_and_the_top_register() throws Exception {
        assertThat(parse("{\"function_code\":3,\"device_id\":\"d\",\"address\":0}").query()).contains("&address=0&");
        assertThat(parse("{\"function_code\":3,\"device_id\":\"d\",\"address\":65535}").query()).contains("&address=65535&");
    }

    @Test
    void should_name_the_field_and_the_reason_of_every_refusal() {
        assertRefused(new byte[] {(byte) 0xff, '{'}, "the request is not UTF-8 text");
        assertRefused("", "the request must be a JSON object");
        assertRefused("{} {}", "invalid JSON: more text after the JSON value at line 1 column 4");
        assertRefused("{\"function_code\":3,\"device_id\":\"" + "d".repeat(65) + "\",\"address\":1}", "device_id must be at most 64 characters, got 65");
        assertRefused("{\"function_code\":3,\"device_id\":\"d\",\"address\":1,\"type\":\"" + "t".repeat(65) + "\"}", "type must be at most 64 characters, got 65");
        assertRefused("{\"function_code\":3,\"device_id\":\"d\",\"address\":1,\"scale_factor\":1e999999999}",
                "scale_factor must have at most 30 digits before and after the point");
        assertRefused("{\"function_code\":3,\"device_id\":\"d\",\"address\":1,\"scale_factor\":\"1e-99\"}",
                "scale_factor must have at most 30 digits before and after the point");
        assertRefused("{\"function_code\":3.5,\"device_id\":\"d\",\"address\":1}", "function_code must be an integer, got 3.5");
        assertRefused("{\"function_code\":6,\"device_id\":\"d\",\"address\":1}", "unsupported function_code 6: 3 and 4 read registers, 16 writes them");
        assertRefused("{\"function_code\":3,\"device_id\":\"\",\"address\":1}", "device_id must be a non-empty string, got \"\"");
        assertRefused("{\"function_code\":3,\"device_id\":\"d\",\"address\":65536}", "address must be from 0 to 65535, got 65536");
        assertRefused("{\"function_code\":3,\"device_id\":\"d\",\"address\":1,\"size\":126}", "size must be from 1 to 125, got 126");
        assertRefused("{\"function_code\":16,\"device_id\":\"d\",\"address\":1,\"values\":[" + "1,".repeat(123) + "1]}",
                "values: at most 123 in one write (Modbus function 16), got 124");
        assertRefused("{\"function_code\":3,\"device_id\":\"d\",\"address\":1,\"endianess\":\"middle\"}", "endianess must be \"big\" or \"little\", got \"middle\"");
        assertRefused("{\"function_code\":3,\"device_id\":\"d\",\"address\":1,\"scale_factor\":\"x\"}", "scale_factor must be a number, got \"x\"");
        assertRefused("{\"function_code\":3,\"device_id\":\"d\",\"address\":1,\"type\":7}", "type must be a non-empty string, got 7");
        assertRefused("{\"function_code\":16,\"device_id\":\"d\",\"address\":1,\"values\":[]}", "values must be an integer, a list of integers or a comma-separated string of integers, got []");
        assertRefused("{\"function_code\":16,\"device_id\":\"d\",\"address\":1,\"values\":[1.5]}", "values must be an integer, a list of integers or a comma-separated string of integers, got [1.5]");
    }

    private static void assertRefused(String request, String reason) {
        assertRefused(request.getBytes(StandardCharsets.UTF_8), reason);
    }

    private static void assertRefused(byte[] request, String reason) {
        assertThatThrownBy(() -> ModbusCommand.parse(request)).isInstanceOf(InverterFailure.class).hasMessage(reason)
                .extracting(failure -> ((InverterFailure) failure).httpStatus()).isNull();
    }
}
