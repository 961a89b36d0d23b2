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
{{- range $key, $value := .Values.config }}
{{- if and (ne (toString $value) "") (not (has $key (list "QLRF_ALLOWED_HOSTS" "QLRF_VAR_DIR" "QLRF_MEDIA_ROOT"))) }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Secret variables read from the existing Secret. */}}
{{- define "qlrf.secretEnv" -}}
{{- $secret := required "existingSecret must name a Secret holding QLRF_SECRET_KEY, QLRF_DATABASE_URL and QLRF_REDIS_URL" .Values.existingSecret -}}
- name: QLRF_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.secretKeys.secretKey }}
- name: QLRF_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.secretKeys.databaseUrl }}
- name: QLRF_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.secretKeys.redisUrl }}
- name: QLRF_VAULT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ .Values.secretKeys.vaultToken }}
      optional: true
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
