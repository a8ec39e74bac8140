{{/* Names and labels. */}}
{{- define "orchestrator-dynamic.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "orchestrator-dynamic.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "orchestrator-dynamic.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orchestrator-dynamic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "orchestrator-dynamic.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "orchestrator-dynamic.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: neural-hive-mind
{{- end -}}

{{- define "orchestrator-dynamic.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "orchestrator-dynamic.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "orchestrator-dynamic.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the database URL (postgres mode). */}}
{{- define "orchestrator-dynamic.databaseSecretName" -}}
{{- if .Values.database.existingSecret -}}
{{- .Values.database.existingSecret -}}
{{- else -}}
{{- printf "%s-database" (include "orchestrator-dynamic.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Where the chart mounts what it mounts. */}}
{{- define "orchestrator-dynamic.paths" -}}
config: /etc/orchestrator/config/config.json
dataDir: /var/lib/orchestrator
databaseURL: /etc/orchestrator/database/url
databaseCA: /etc/orchestrator/database-ca/ca.crt
tokens: /etc/orchestrator/auth/tokens/tokens.json
jwks: /etc/orchestrator/auth/jwks/jwks.json
jwtHS256: /etc/orchestrator/auth/jwt-hs256/secret
tlsCert: /etc/orchestrator/tls/tls.crt
tlsKey: /etc/orchestrator/tls/tls.key
kafkaPassword: /etc/orchestrator/kafka/sasl/password
kafkaCA: /etc/orchestrator/kafka/ca/ca.crt
kafkaCert: /etc/orchestrator/kafka/client/user.crt
kafkaKey: /etc/orchestrator/kafka/client/user.key
{{- end -}}

{{/* Refuses values that would render a broken deployment, naming the fix. */}}
{{- define "orchestrator-dynamic.validate" -}}
{{- if eq .Values.mode "postgres" -}}
{{- if and (not .Values.database.existingSecret) (not .Values.database.url) -}}
{{- fail "mode postgres needs the database URL: database.existingSecret (a Secret with the URL under database.secretKey) or database.url" -}}
{{- end -}}
{{- if and (eq .Values.auth.mode "required") (not .Values.auth.tokens.existingSecret) (not .Values.auth.jwks.existingSecret) (not .Values.auth.jwtHS256.existingSecret) -}}
{{- fail "mode postgres with auth.mode required needs auth.tokens.existingSecret or a JWT key (auth.jwks / auth.jwtHS256): without one, every replica would create its own admin.token" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.tls.enabled (not .Values.tls.existingSecret) -}}
{{- fail "tls.enabled needs tls.existingSecret (a kubernetes.io/tls Secret with tls.crt and tls.key)" -}}
{{- end -}}
{{- if and .Values.kafka.enabled (not .Values.kafka.bootstrapServers) -}}
{{- fail "kafka.enabled needs kafka.bootstrapServers (host:port,...)" -}}
{{- end -}}
{{- end -}}

{{/*
The configuration file: .Values.config, with the keys the chart owns laid over it.
*/}}
{{- define "orchestrator-dynamic.config" -}}
{{- $p := include "orchestrator-dynamic.paths" . | fromYaml -}}
{{- $http := dict "host" "0.0.0.0" "port" (int .Values.ports.http) "metrics_port" (int .Values.ports.metrics) -}}
{{- if .Values.tls.enabled -}}
{{- $_ := set $http "tls_cert_file" $p.tlsCert -}}
{{- $_ := set $http "tls_key_file" $p.tlsKey -}}
{{- end -}}
{{- $auth := dict "mode" .Values.auth.mode "metrics_need_token" .Values.auth.metricsNeedToken -}}
{{- if .Values.auth.anonymousRoles -}}
{{- $_ := set $auth "anonymous_roles" .Values.auth.anonymousRoles -}}
{{- end -}}
{{- if .Values.auth.tokens.existingSecret -}}
{{- $_ := set $auth "tokens_file" $p.tokens -}}
{{- end -}}
{{- if .Values.auth.jwks.existingSecret -}}
{{- $_ := set $auth "jwks_file" $p.jwks -}}
{{- end -}}
{{- if .Values.auth.jwtHS256.existingSecret -}}
{{- $_ := set $auth "jwt_hs256_secret_file" $p.jwtHS256 -}}
{{- end -}}
{{- if .Values.auth.jwtIssuer -}}
{{- $_ := set $auth "jwt_issuer" .Values.auth.jwtIssuer -}}
{{- end -}}
{{- if .Values.auth.jwtAudience -}}
{{- $_ := set $auth "jwt_audience" .Values.auth.jwtAudience -}}
{{- end -}}
{{- if .Values.auth.jwtRolesClaim -}}
{{- $_ := set $auth "jwt_roles_claim" .Values.auth.jwtRolesClaim -}}
{{- end -}}
{{- $owned := dict "http" $http "auth" $auth "storage" (dict "data_dir" $p.dataDir) "log_level" .Values.logLevel "log_format" "json" -}}
{{- $k := .Values.kafka -}}
{{- $outboxTopics := dict "tickets" $k.topics.tickets "incidents" $k.topics.incidents "telemetry_frames" $k.topics.telemetryFrames "telemetry_events" $k.topics.telemetryEvents -}}
{{- if $k.enabled -}}
{{- $props := deepCopy (default (dict) $k.properties) -}}
{{- if $k.caSecret.name -}}
{{- $_ := set $props "ssl.ca.location" $p.kafkaCA -}}
{{- end -}}
{{- if $k.clientCertSecret.name -}}
{{- $_ := set $props "ssl.certificate.location" $p.kafkaCert -}}
{{- $_ := set $props "ssl.key.location" $p.kafkaKey -}}
{{- end -}}
{{- $kafka := dict "bootstrap_servers" $k.bootstrapServers "consumer_group_id" $k.consumerGroupId "consume" $k.consume "format" $k.format "auto_offset_reset" $k.autoOffsetReset "results_require_lease_secret" $k.resultsRequireLeaseSecret -}}
{{- $_ := set $kafka "topics" (dict "consensus" $k.topics.consensus "plans" $k.topics.plans "results" $k.topics.results) -}}
{{- if $k.securityProtocol -}}
{{- $_ := set $kafka "security_protocol" $k.securityProtocol -}}
{{- end -}}
{{- if $k.saslMechanism -}}
{{- $_ := set $kafka "sasl_mechanism" $k.saslMechanism -}}
{{- end -}}
{{- if $k.saslUsername -}}
{{- $_ := set $kafka "sasl_username" $k.saslUsername -}}
{{- end -}}
{{- if $k.saslPassword.existingSecret -}}
{{- $_ := set $kafka "sasl_password_file" $p.kafkaPassword -}}
{{- end -}}
{{- if $props -}}
{{- $_ := set $kafka "properties" $props -}}
{{- end -}}
{{- $_ := set $owned "kafka" $kafka -}}
{{- $_ := set $owned "outbox" (dict "sink" $k.outboxSink "topics" $outboxTopics) -}}
{{- else -}}
{{- $_ := set $owned "outbox" (dict "topics" $outboxTopics) -}}
{{- end -}}
{{- $config := mustMergeOverwrite (deepCopy (default (dict) .Values.config)) $owned -}}
{{- toPrettyJson $config -}}
{{- end -}}

{{/* Environment variables of the server and of the migration init container. */}}
{{- define "orchestrator-dynamic.env" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- if eq .Values.mode "postgres" }}
# PostgreSQL: each replica's id is its pod name (unique among running pods; storage.replica_id).
- name: ORCHESTRATOR_REPLICA_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: ORCHESTRATOR_DATABASE_URL_FILE
  value: {{ (include "orchestrator-dynamic.paths" . | fromYaml).databaseURL | quote }}
{{- end }}
{{- with .Values.otel }}
{{- if .endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .endpoint | quote }}
{{- end }}
{{- if .protocol }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .protocol | quote }}
{{- end }}
{{- if .serviceName }}
- name: OTEL_SERVICE_NAME
  value: {{ .serviceName | quote }}
{{- end }}
{{- if .sampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ .sampler | quote }}
{{- end }}
{{- if .samplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .samplerArg | quote }}
{{- end }}
{{- if or .endpoint .resourceAttributes }}
{{- $attributes := list "k8s.pod.name=$(POD_NAME)" "k8s.namespace.name=$(POD_NAMESPACE)" }}
{{- range $key, $value := .resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%v" $key $value) }}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attributes | quote }}
{{- end }}
{{- range $name, $value := .env }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volume mounts of the server and of the migration init container. */}}
{{- define "orchestrator-dynamic.volumeMounts" -}}
- name: data
  mountPath: /var/lib/orchestrator
- name: tmp
  mountPath: /tmp
- name: config
  mountPath: /etc/orchestrator/config
  readOnly: true
{{- if eq .Values.mode "postgres" }}
- name: database-url
  mountPath: /etc/orchestrator/database
  readOnly: true
{{- if .Values.database.caSecret }}
- name: database-ca
  mountPath: /etc/orchestrator/database-ca
  readOnly: true
{{- end }}
{{- end }}
{{- if .Values.auth.tokens.existingSecret }}
- name: auth-tokens
  mountPath: /etc/orchestrator/auth/tokens
  readOnly: true
{{- end }}
{{- if .Values.auth.jwks.existingSecret }}
- name: auth-jwks
  mountPath: /etc/orchestrator/auth/jwks
  readOnly: true
{{- end }}
{{- if .Values.auth.jwtHS256.existingSecret }}
- name: auth-jwt-hs256
  mountPath: /etc/orchestrator/auth/jwt-hs256
  readOnly: true
{{- end }}
{{- if .Values.tls.enabled }}
- name: tls
  mountPath: /etc/orchestrator/tls
  readOnly: true
{{- end }}
{{- if .Values.kafka.enabled }}
{{- if .Values.kafka.saslPassword.existingSecret }}
- name: kafka-sasl
  mountPath: /etc/orchestrator/kafka/sasl
  readOnly: true
{{- end }}
{{- if .Values.kafka.caSecret.name }}
- name: kafka-ca
  mountPath: /etc/orchestrator/kafka/ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.clientCertSecret.name }}
- name: kafka-client
  mountPath: /etc/orchestrator/kafka/client
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{/* Volumes (the data volume is the StatefulSet's claim in embedded mode, an emptyDir otherwise). */}}
{{- define "orchestrator-dynamic.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
- name: config
  configMap:
    name: {{ include "orchestrator-dynamic.fullname" . }}
{{- if eq .Values.mode "postgres" }}
# The outbox JSON-lines files (outbox.sink files or both) live here: with Kafka they are not needed.
- name: data
  emptyDir: {}
- name: database-url
  secret:
    secretName: {{ include "orchestrator-dynamic.databaseSecretName" . }}
    defaultMode: 0440
    items:
      - key: {{ .Values.database.secretKey }}
        path: url
{{- if .Values.database.caSecret }}
- name: database-ca
  secret:
    secretName: {{ .Values.database.caSecret }}
    defaultMode: 0440
    items:
      - key: ca.crt
        path: ca.crt
{{- end }}
{{- end }}
{{- with .Values.auth.tokens }}
{{- if .existingSecret }}
- name: auth-tokens
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: tokens.json
{{- end }}
{{- end }}
{{- with .Values.auth.jwks }}
{{- if .existingSecret }}
- name: auth-jwks
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: jwks.json
{{- end }}
{{- end }}
{{- with .Values.auth.jwtHS256 }}
{{- if .existingSecret }}
- name: auth-jwt-hs256
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: secret
{{- end }}
{{- end }}
{{- if .Values.tls.enabled }}
- name: tls
  secret:
    secretName: {{ .Values.tls.existingSecret }}
    defaultMode: 0440
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
{{- if .Values.kafka.enabled }}
{{- with .Values.kafka.saslPassword }}
{{- if .existingSecret }}
- name: kafka-sasl
  secret:
    secretName: {{ .existingSecret }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: password
{{- end }}
{{- end }}
{{- with .Values.kafka.caSecret }}
{{- if .name }}
- name: kafka-ca
  secret:
    secretName: {{ .name }}
    defaultMode: 0440
    items:
      - key: {{ .key }}
        path: ca.crt
{{- end }}
{{- end }}
{{- with .Values.kafka.clientCertSecret }}
{{- if .name }}
- name: kafka-client
  secret:
    secretName: {{ .name }}
    defaultMode: 0440
    items:
      - key: {{ .certKey }}
        path: user.crt
      - key: {{ .keyKey }}
        path: user.key
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* An HTTP probe. */}}
{{- define "orchestrator-dynamic.probe" -}}
{{- $probe := index . 0 -}}
{{- $root := index . 1 -}}
httpGet:
  path: {{ $probe.path }}
  port: http
  scheme: {{ ternary "HTTPS" "HTTP" $root.Values.tls.enabled }}
periodSeconds: {{ $probe.periodSeconds }}
timeoutSeconds: {{ $probe.timeoutSeconds }}
failureThreshold: {{ $probe.failureThreshold }}
{{- end -}}

{{/* The pod template, shared by the StatefulSet (embedded) and the Deployment (postgres). */}}
{{- define "orchestrator-dynamic.podTemplate" -}}
metadata:
  labels:
    {{- include "orchestrator-dynamic.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include "orchestrator-dynamic.config" . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "orchestrator-dynamic.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.automountServiceAccountToken }}
  # No Service environment variables: a Service named `orchestrator` would inject
  # ORCHESTRATOR_PORT=tcp://..., which the server reads as its port.
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  {{- if .Values.migrations.enabled }}
  initContainers:
    # Applies the schema migrations before the new version serves (on PostgreSQL under an
    # advisory lock, so replicas starting together are safe). `serve` would apply them too; doing it
    # here makes a failed migration a failed init container, before any traffic reaches the pod.
    - name: migrate
      image: {{ include "orchestrator-dynamic.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - migrate
        - --config
        - {{ (include "orchestrator-dynamic.paths" . | fromYaml).config }}
        - --log-format
        - json
      env:
        {{- include "orchestrator-dynamic.env" . | nindent 8 }}
      volumeMounts:
        {{- include "orchestrator-dynamic.volumeMounts" . | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      resources:
        {{- toYaml .Values.migrations.resources | nindent 8 }}
  {{- end }}
  containers:
    - name: orchestrator
      image: {{ include "orchestrator-dynamic.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - serve
        - --config
        - {{ (include "orchestrator-dynamic.paths" . | fromYaml).config }}
        - --log-format
        - json
      env:
        {{- include "orchestrator-dynamic.env" . | nindent 8 }}
      ports:
        - name: http
          containerPort: {{ .Values.ports.http }}
          protocol: TCP
        - name: metrics
          containerPort: {{ .Values.ports.metrics }}
          protocol: TCP
      startupProbe:
        {{- include "orchestrator-dynamic.probe" (list .Values.probes.startup .) | nindent 8 }}
      livenessProbe:
        {{- include "orchestrator-dynamic.probe" (list .Values.probes.liveness .) | nindent 8 }}
      readinessProbe:
        {{- include "orchestrator-dynamic.probe" (list .Values.probes.readiness .) | nindent 8 }}
      volumeMounts:
        {{- include "orchestrator-dynamic.volumeMounts" . | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
  volumes:
    {{- include "orchestrator-dynamic.volumes" . | nindent 4 }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
