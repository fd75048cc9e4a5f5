{{/* Names, labels and the rendered slotel config. */}}

{{- define "slotel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "slotel.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "slotel.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "slotel.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "slotel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "slotel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "slotel.labels" -}}
{{ include "slotel.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: slotel
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "slotel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "slotel.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "slotel.secretName" -}}
{{- default (printf "%s-secrets" (include "slotel.fullname" .)) .Values.secret.name -}}
{{- end -}}

{{/* Whether the pod mounts the secret. */}}
{{- define "slotel.usesSecret" -}}
{{- if or .Values.auth.tokens .Values.redaction.hashKeySecretKey .Values.adminAuth.secretKey .Values.secret.create -}}true{{- end -}}
{{- end -}}

{{- define "slotel.secretDir" -}}/var/run/secrets/slotel{{- end -}}

{{/* slotel.yaml: values.config under the keys the chart owns. */}}
{{- define "slotel.config" -}}
{{- $secretDir := include "slotel.secretDir" . -}}
{{- $cfg := deepCopy (default dict .Values.config) -}}
{{- $otlp := dict "protocols" (dict
      "grpc" (dict "endpoint" (printf "0.0.0.0:%d" (int .Values.ports.grpc)))
      "http" (dict "endpoint" (printf "0.0.0.0:%d" (int .Values.ports.http)))) -}}
{{- if .Values.auth.tokens -}}
{{- $tokens := list -}}
{{- range .Values.auth.tokens -}}
{{- $t := dict "token" (printf "${file:%s/%s}" $secretDir (required "auth.tokens[].secretKey is required" .secretKey)) "tenant" (required "auth.tokens[].tenant is required" .tenant) -}}
{{- if .cluster -}}{{- $_ := set $t "cluster" .cluster -}}{{- end -}}
{{- $tokens = append $tokens $t -}}
{{- end -}}
{{- $_ := set $otlp "auth" (dict "tokens" $tokens) -}}
{{- end -}}
{{- $cfg = mergeOverwrite $cfg (dict "receivers" (dict "otlp" $otlp)) -}}
{{- /* Only the SLOs asked for: sloFiles, and the built-in examples with examples.enabled. */ -}}
{{- $files := list -}}
{{- if .Values.sloFiles -}}{{- $files = append $files "/etc/slotel/slos/*.yaml" -}}{{- end -}}
{{- if .Values.examples.enabled -}}{{- $files = append $files "embedded:examples" -}}{{- end -}}
{{- $slo := dict "files" $files -}}
{{- if .Values.persistence.enabled -}}
{{- $_ := set $slo "state_dir" "/var/lib/slotel/state" -}}
{{- $_ := set $slo "snapshot_interval" .Values.persistence.snapshotInterval -}}
{{- end -}}
{{- $cfg = mergeOverwrite $cfg (dict "slo" $slo) -}}
{{- if .Values.redaction.hashKeySecretKey -}}
{{- $key := printf "${file:%s/%s}" $secretDir .Values.redaction.hashKeySecretKey -}}
{{- $cfg = mergeOverwrite $cfg (dict "processors" (dict "redaction" (dict "hash" (dict "key" $key)))) -}}
{{- end -}}
{{- $admin := dict "endpoint" (printf "0.0.0.0:%d" (int .Values.ports.admin)) -}}
{{- if .Values.adminAuth.secretKey -}}
{{- $_ := set $admin "auth" (dict "token" (printf "${file:%s/%s}" $secretDir .Values.adminAuth.secretKey) "metrics" .Values.adminAuth.metrics) -}}
{{- end -}}
{{- $svc := dict "admin" $admin "shutdown_timeout" (printf "%ds" (int .Values.shutdownTimeoutSeconds)) -}}
{{- $cfg = mergeOverwrite $cfg (dict "service" $svc) -}}
{{- toYaml $cfg -}}
{{- end -}}
