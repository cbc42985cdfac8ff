package org.iotgateway.reload;

import java.nio.file.Path;

/** A route file that cannot replace the running routes: where (file and line, 1-based; 0 when unknown) and why. */
public class InvalidRouteFileException extends Exception {

    private final Path file;
    private final int line;
    private final String reason;

    public InvalidRouteFileException(Path file, int line, String reason) {
        super(file + (line > 0 ? ":" + line : "") + ": " + reason, null, false, false);
        this.file = file;
        this.line = line;
        this.reason = reason;
    }

    public Path file() {
        return file;
    }

    public int line() {
        return line;
    }

    public String reason() {
        return reason;
    }
}
