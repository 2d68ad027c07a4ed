# Built from the repository root after `mvn -B -DskipTests package`.
FROM eclipse-temurin:17-jre
COPY ext-proc/target/llmgw-ext-proc-*-all.jar /opt/llmgw/ext-proc.jar
# Envoy and Prometheus reach ext-proc from other containers: bind every interface (the service's
# own default too, stated here so it survives a change of default). Put the gRPC port on mutual TLS
# (EXT_PROC_TLS_CERT_FILE, EXT_PROC_TLS_KEY_FILE, EXT_PROC_TLS_CLIENT_CA_FILE) wherever the network
# is shared: docs/security.md#trust-boundaries-and-transport-security.
ENV EXT_PROC_BIND_HOST=0.0.0.0
EXPOSE 9002 9003
USER 65532
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/llmgw/ext-proc.jar"]
