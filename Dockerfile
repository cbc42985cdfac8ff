# Build: the runnable jar and its runtime dependencies (the embedded dev services are 'provided' and stay out)
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -ntp dependency:go-offline
COPY src src
COPY application.properties .
RUN mvn -B -ntp package -DskipTests

# Run: JRE 17, non-root. Settings and routes are files, /deployments/config/application.properties and
# /deployments/routes/<group>/*.camel.yaml: the project's own are copied in, and a mount over either replaces them
# (docker run -v, Kubernetes ConfigMaps). Route edits are applied while running.
FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /deployments gateway
WORKDIR /deployments
COPY --from=build /src/target/lib lib
COPY --from=build /src/target/iot-gateway.jar iot-gateway.jar
COPY application.properties config/application.properties
COPY routes routes
ENV CAMEL_MAIN_PROPERTY_PLACEHOLDER_LOCATION=file:/deployments/config/application.properties \
    GATEWAY_ROUTES_DIR=/deployments/routes
USER 10001
# MQTT-SN over UDP; live feed dashboard and WebSocket; oneM2M HTTP binding; health and metrics (on the container's
# loopback only until GATEWAY_MANAGEMENT_HOST=0.0.0.0, as docker-compose.yml and camel-k/ set it)
EXPOSE 2883/udp 8080/tcp 8282/tcp 9876/tcp
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "iot-gateway.jar"]
