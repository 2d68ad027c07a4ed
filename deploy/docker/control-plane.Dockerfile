# Built from the repository root after `mvn -B -DskipTests package`.
FROM eclipse-temurin:17-jre
COPY control-plane/target/llmgw-control-plane-*-all.jar /opt/llmgw/control-plane.jar
# Envoy, ext-proc and operators reach the control plane from other containers: bind every interface
# (the service's own default too). Give Envoy and ext-proc their tokens (LLMGW_CP_XDS_TOKEN_FILE,
# LLMGW_CP_EXT_PROC_TOKEN_FILE) and put the xDS port on mutual TLS (LLMGW_CP_XDS_TLS_*) wherever the
# network is shared: docs/security.md#trust-boundaries-and-transport-security.
ENV LLMGW_CP_BIND_HOST=0.0.0.0
EXPOSE 18000 18080
USER 65532
ENTRYPOINT ["java", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/llmgw/control-plane.jar"]
