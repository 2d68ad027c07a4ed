# Built from the repository root after `mvn -B -DskipTests package`.
FROM eclipse-temurin:17-jre
COPY ext-proc/target/llmgw-ext-proc-*-all.jar /opt/llmgw/ext-proc.jar
EXPOSE 9002
USER 65532
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/llmgw/ext-proc.jar"]
