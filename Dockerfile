# Build: the runnable jar and its runtime dependencies (the embedded dev services are 'provided' and stay out)
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -ntp dependency:go-offline
COPY src src
COPY application.properties .
RUN mvn -B -ntp package -DskipTests

# Run: JRE 17, non-root, routes and properties from the image or from mounted files
FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /app gateway
WORKDIR /app
COPY --from=build /src/target/lib lib
COPY --from=build /src/target/iot-gateway.jar iot-gateway.jar
COPY routes routes
USER 10001
# MQTT-SN over UDP, health and metrics
EXPOSE 2883/udp 8080/tcp 9876/tcp
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "iot-gateway.jar"]
