package org.iotgateway;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.camel.spi.PropertiesComponent;
import org.apache.camel.spi.PropertiesFunction;

/**
 * Settings from {@code .env} files, as the Python gateway reads them (python-dotenv): {@code KEY=value} lines,
 * optionally {@code export}ed, quoted, with {@code #} comments; the process's real environment wins over a file. A
 * file's variables count wherever an environment variable does: a setting's own name ({@code MQTTSN_PORT} for
 * {@code mqttsn.port}) and the originals' names read with {@code {{env:NAME}}}.
 */
public final class EnvFiles {

    /** Read from the real environment only, never from a file, as the Python gateway does. */
    static final List<String> ENVIRONMENT_ONLY = List.of("MQTTSN_ENV_FILE", "MQTTSN_NO_ENV_FILES", "MQTTSN_DEBUG", "MQTTSN_JSON_LOGS");

    private static volatile Map<String, String> loaded = Map.of();

    private EnvFiles() {
    }

    /** Reads a file's variables; a line that is not a setting stops the start with its line number. */
    static Map<String, String> parse(List<String> lines, String file) {
        Map<String, String> variables = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("export ")) {
                line = line.substring(7).stripLeading();
            }
            int equals = line.indexOf('=');
            String name = equals < 0 ? "" : line.substring(0, equals).strip();
            if (!name.matches("[A-Za-z_][A-Za-z0-9_.]*")) {
                throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected NAME=value");
            }
            variables.put(name, value(line.substring(equals + 1).strip(), file, i + 1));
        }
        return variables;
    }

    private static String value(String raw, String file, int line) {
        if (raw.length() >= 1 && (raw.charAt(0) == '"' || raw.charAt(0) == '\'')) {
            char quote = raw.charAt(0);
            int end = raw.indexOf(quote, 1);
            if (end < 0) {
                throw new IllegalArgumentException(file + " line " + line + ": the value's " + quote + " is not closed");
            }
            String quoted = raw.substring(1, end);
            return quote == '"' ? quoted.replace("\\n", "\n").replace("\\\"", "\"") : quoted;
        }
        int comment = raw.indexOf(" #");
        return (comment < 0 ? raw : raw.substring(0, comment)).strip();
    }

    /** Loads the file, leaving out the variables that only the environment may set. */
    static void load(Path file) throws IOException {
        Map<String, String> variables = new LinkedHashMap<>(parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString()));
        ENVIRONMENT_ONLY.forEach(variables::remove);
        loaded = Map.copyOf(variables);
    }

    /** The variable from the environment, else from the loaded file, else null. */
    static String variable(String name) {
        String value = System.getenv(name);
        return value != null ? value : loaded.get(name);
    }

    /**
     * Makes the loaded file count in the settings: the {@code env} function reads it after the environment, and each
     * setting whose variable ({@code MQTTSN_PORT} for {@code mqttsn.port}) only the file has gets its value.
     */
    static void apply(PropertiesComponent properties) {
        if (loaded.isEmpty()) {
            return;
        }
        properties.addPropertiesFunction(new PropertiesFunction() {
            @Override
            public String getName() {
                return "env";
            }

            @Override
            public String apply(String remainder) {
                int colon = remainder.indexOf(':');
                String name = colon < 0 ? remainder : remainder.substring(0, colon);
                String value = variable(name);
                if (value == null) {
                    value = variable(name.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_'));
                }
                return value != null ? value : colon < 0 ? null : remainder.substring(colon + 1);
            }
        });
        for (String key : properties.loadPropertiesAsMap(key -> true).keySet()) {
            String name = key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
            if (System.getenv(name) == null && loaded.containsKey(name)) {
                properties.addOverrideProperty(key, loaded.get(name));
            }
        }
    }
}
