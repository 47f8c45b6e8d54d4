{{/* The release's name for its objects, at most 63 characters. */}}
{{- define "suiji.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The object name of one component (a service or the console): <fullname>-<component>. */}}
{{- define "suiji.component" -}}
{{- printf "%s-%s" (include "suiji.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "suiji.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/part-of: suiji
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "suiji.selector" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "suiji.image" -}}
{{ printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end -}}

{{- define "suiji.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- printf "%s-connections" (include "suiji.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The address of a service inside the cluster, as the others call it. */}}
{{- define "suiji.address" -}}
{{- printf "http://%s:%v" (include "suiji.component" (dict "root" .root "name" .name)) .root.Values.grpcPort -}}
{{- end -}}

{{/* The settings every component takes: from the Secret, the cluster's addresses, and `settings`. */}}
{{- define "suiji.env" -}}
- name: SUIJI_AUTH__JWT_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "suiji.secretName" . }}, key: jwt-secret}}
- name: SUIJI_AUTH__DEV_TOKENS
  value: "false"
- name: SUIJI_GRPC__HOST
  value: "0.0.0.0"
{{- range $service := list "catalog" "directories" "planning" "draw" "inspection" "publication" }}
- name: {{ printf "SUIJI_SERVICES__%s" ($service | upper) }}
  value: {{ include "suiji.address" (dict "root" $ "name" $service) | quote }}
{{- end }}
- name: SUIJI_INSPECTION__PUBLIC_URL
  value: {{ .Values.publicUrl | quote }}
- name: SUIJI_TELEMETRY__OTLP_ENDPOINT
  value: {{ .Values.telemetry.otlpEndpoint | quote }}
- name: TMPDIR
  value: /tmp
{{- range $key, $value := .Values.settings }}
- name: {{ printf "SUIJI_%s" ($key | upper | replace "." "__") }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}
