{{/* Chart name, truncated to a DNS label. */}}
{{- define "qlrf.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, plus the chart name unless it already contains it. */}}
{{- define "qlrf.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "qlrf.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "qlrf.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "qlrf.selectorLabels" -}}
app.kubernetes.io/name: {{ include "qlrf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "qlrf.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "qlrf.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "qlrf.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Host header the probes send: the first allowed host without a leading dot. */}}
{{- define "qlrf.probeHost" -}}
{{- $first := first (required "allowedHosts must list at least one host name" .Values.allowedHosts) }}
{{- trimPrefix "." $first }}
{{- end }}

{{/* Non-secret variables, as name: value pairs (ConfigMap data and the migrate Job's env). */}}
{{- define "qlrf.configData" -}}
QLRF_ALLOWED_HOSTS: {{ join "," .Values.allowedHosts | quote }}
QLRF_VAR_DIR: "/app/var"
QLRF_MEDIA_ROOT: {{ .Values.media.mountPath | quote }}
{{- $fixed := list "QLRF_ALLOWED_HOSTS" "QLRF_VAR_DIR" "QLRF_MEDIA_ROOT" }}
{{- if .Values.kafka.enabled }}
{{- $fixed = concat $fixed (list "QLRF_EVENTS_TRANSPORT" "QLRF_EVENTS_KAFKA_BOOTSTRAP") }}
QLRF_EVENTS_TRANSPORT: "kafka"
QLRF_EVENTS_KAFKA_BOOTSTRAP: {{ printf "%s:9092" (include "qlrf.serviceName" (list . "kafka")) | quote }}
{{- end }}
{{- range $key, $value := .Values.config }}
{{- if and (ne (toString $value) "") (not (has $key $fixed)) }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Service name of an in-chart data service: (list $ "postgresql"). */}}
{{- define "qlrf.serviceName" -}}
{{- printf "%s-%s" (include "qlrf.fullname" (index . 0)) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Secret variables read from the existing Secret. With an in-chart PostgreSQL or Redis, the URL is built from its
Service and the password in the Secret (Kubernetes expands $(VAR) from the variables defined before it). */}}
{{- define "qlrf.secretEnv" -}}
{{- $secret := required "existingSecret must name a Secret holding QLRF_SECRET_KEY, QLRF_DATABASE_URL and QLRF_REDIS_URL" .Values.existingSecret -}}
- name: QLRF_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.secretKeys.secretKey }}
{{- if .Values.postgresql.enabled }}
- name: POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.postgresql.passwordKey }}
- name: QLRF_DATABASE_URL
  value: {{ printf "postgres://%s:$(POSTGRES_PASSWORD)@%s:5432/%s" .Values.postgresql.username (include "qlrf.serviceName" (list . "postgresql")) .Values.postgresql.database | quote }}
{{- else }}
- name: QLRF_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ required "secretKeys.databaseUrl must name the key of the external QLRF_DATABASE_URL when postgresql.enabled is false" .Values.secretKeys.databaseUrl }}
{{- end }}
{{- if .Values.redis.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.redis.passwordKey }}
- name: QLRF_REDIS_URL
  value: {{ printf "redis://:$(REDIS_PASSWORD)@%s:6379/%d" (include "qlrf.serviceName" (list . "redis")) (int .Values.redis.database) | quote }}
{{- else }}
- name: QLRF_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ required "secretKeys.redisUrl must name the key of the external QLRF_REDIS_URL when redis.enabled is false" .Values.secretKeys.redisUrl }}
{{- end }}
- name: QLRF_VAULT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.secretKeys.vaultToken }}
      optional: true
{{- end }}

{{/* True (non-empty) when the migrate Job must wait for an in-chart database or Redis created by the release. */}}
{{- define "qlrf.inChartStore" -}}
{{- if or .Values.postgresql.enabled .Values.redis.enabled }}true{{ end }}
{{- end }}

{{/* An init container that waits until the in-chart PostgreSQL and Redis accept TCP connections. */}}
{{- define "qlrf.waitForStoresInit" -}}
- name: wait-for-stores
  image: {{ include "qlrf.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command:
    - python
    - -c
    - |
      import socket, sys, time
      targets = [t.rsplit(":", 1) for t in sys.argv[1:]]
      for host, port in targets:
          for attempt in range(120):
              try:
                  socket.create_connection((host, int(port)), timeout=2).close()
                  break
              except OSError:
                  print(f"waiting for {host}:{port}", flush=True)
                  time.sleep(5)
          else:
              sys.exit(f"{host}:{port} did not answer in 10 minutes")
    {{- if .Values.postgresql.enabled }}
    - {{ printf "%s:5432" (include "qlrf.serviceName" (list . "postgresql")) }}
    {{- end }}
    {{- if .Values.redis.enabled }}
    - {{ printf "%s:6379" (include "qlrf.serviceName" (list . "redis")) }}
    {{- end }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    requests:
      cpu: 10m
      memory: 32Mi
    limits:
      memory: 64Mi
{{- end }}

{{/* An init container that holds web and worker pods until the migrate Job has applied every migration (with an
in-chart PostgreSQL or Redis the Job is created with the pods, not before them). */}}
{{- define "qlrf.waitForMigrationsInit" -}}
- name: wait-for-migrations
  image: {{ include "qlrf.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  command: ["sh", "-c", "until python manage.py migrate --check >/dev/null; do echo waiting for migrations; sleep 5; done"]
  envFrom:
    - configMapRef:
        name: {{ include "qlrf.fullname" . }}-config
  env:
    {{- include "qlrf.secretEnv" . | nindent 4 }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    requests:
      cpu: 50m
      memory: 128Mi
    limits:
      memory: 512Mi
  volumeMounts:
    {{- include "qlrf.appVolumeMounts" . | nindent 4 }}
{{- end }}

{{/* Volumes every application pod mounts: var/ (emptyDir, static files copied in), /tmp, and the media volume. */}}
{{- define "qlrf.appVolumes" -}}
- name: var
  emptyDir: {}
- name: tmp
  emptyDir: {}
- name: media
{{- if .Values.media.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.media.existingClaim }}
{{- else }}
  emptyDir: {}
{{- end }}
{{- end }}

{{- define "qlrf.appVolumeMounts" -}}
- name: var
  mountPath: /app/var
- name: tmp
  mountPath: /tmp
- name: media
  mountPath: {{ .Values.media.mountPath }}
{{- end }}

{{/* An init container that copies the static files collected at build time into the var/ emptyDir. */}}
{{- define "qlrf.copyStaticInit" -}}
- name: copy-static
  image: {{ include "qlrf.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["copy-static", "/mnt/var/staticfiles"]
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    requests:
      cpu: 10m
      memory: 32Mi
    limits:
      memory: 128Mi
  volumeMounts:
    - name: var
      mountPath: /mnt/var
{{- end }}

{{/* Labels of an in-chart data service: (list $ "postgresql"). */}}
{{- define "qlrf.serviceLabels" -}}
{{- $root := index . 0 -}}
{{ include "qlrf.labels" $root }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "qlrf.serviceSelectorLabels" -}}
{{- $root := index . 0 -}}
{{ include "qlrf.selectorLabels" $root }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{/* The headless Service of an in-chart data service: (list $ "postgresql" 5432). */}}
{{- define "qlrf.dataService" -}}
{{- $root := index . 0 -}}
{{- $name := index . 1 -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "qlrf.serviceName" (list $root $name) }}
  labels:
    {{- include "qlrf.serviceLabels" (list $root $name) | nindent 4 }}
spec:
  clusterIP: None
  ports:
    - name: {{ $name }}
      port: {{ index . 2 }}
      targetPort: {{ $name }}
      protocol: TCP
  selector:
    {{- include "qlrf.serviceSelectorLabels" (list $root $name) | nindent 4 }}
{{- end }}

{{/* The data volume claim template of an in-chart data service: (list $ persistence). */}}
{{- define "qlrf.dataClaim" -}}
{{- $persistence := index . 1 -}}
- metadata:
    name: data
  spec:
    accessModes: ["ReadWriteOnce"]
    {{- with $persistence.storageClass }}
    storageClassName: {{ . }}
    {{- end }}
    resources:
      requests:
        storage: {{ $persistence.size }}
{{- end }}
