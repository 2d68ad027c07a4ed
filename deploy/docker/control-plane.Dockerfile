# Built from the repository root after `mvn -B -DskipTests package`.
FROM eclipse-temurin:17-jre
COPY control-plane/target/llmgw-control-plane-*-all.jar /opt/llmgw/control-plane.jar
EXPOSE 18000 18080
USER 65532
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/llmgw/control-plane.jar"]
