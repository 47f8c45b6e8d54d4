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

{{/* The Secret holding one component's own connections (database-url, amqp-url): the one named for it in
secrets.components, else the shared one. */}}
{{- define "suiji.connectionsSecret" -}}
{{- $own := index (.root.Values.secrets.components | default dict) .name -}}
{{- if $own -}}
{{- $own -}}
{{- else -}}
{{- include "suiji.secretName" .root -}}
{{- end -}}
{{- end -}}

{{/* The address of a service inside the cluster, as the others call it. */}}
{{- define "suiji.address" -}}
{{- printf "http://%s:%v" (include "suiji.component" (dict "root" .root "name" .name)) .root.Values.grpcPort -}}
{{- end -}}

{{/* The settings every component takes: from the Secret, the cluster's addresses, and `settings`. */}}
{{- define "suiji.env" -}}
- name: SUIJI_AUTH__DEV_TOKENS
  value: "false"
- name: SUIJI_AUTH__ISSUER
  value: {{ include "suiji.issuer" . | quote }}
- name: SUIJI_AUTH__AUDIENCE
  value: {{ .Values.auth.audience | quote }}
- name: SUIJI_AUTH__DEPARTMENT_CLAIM
  value: {{ .Values.auth.departmentClaim | quote }}
- name: SUIJI_AUTH__ROLES_CLAIM
  value: {{ .Values.auth.rolesClaim | quote }}
- name: SUIJI_AUTH__MAX_TOKEN_LIFETIME_SECS
  value: {{ .Values.auth.maxTokenLifetimeSecs | quote }}
- name: SUIJI_GRPC__HOST
  value: "0.0.0.0"
- name: SUIJI_GRPC__REFLECTION
  value: {{ .Values.grpcReflection | quote }}
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


{{/* The console's address inside the cluster. */}}
{{- define "suiji.consoleUrl" -}}
{{- if not .Values.console.enabled -}}
{{- if ne .Values.auth.mode "oidc" -}}
{{- fail "auth.mode local needs the console (console.enabled): it issues the tokens" -}}
{{- end -}}
{{- end -}}
{{- printf "http://%s/console" (include "suiji.component" (dict "root" . "name" "console")) -}}
{{- end -}}

{{/* Who issues the tokens: the console (local sign-in) or the identity provider. */}}
{{- define "suiji.issuer" -}}
{{- if eq .Values.auth.mode "oidc" -}}
{{- required "auth.oidc.issuerUrl is required with auth.mode oidc" .Values.auth.oidc.issuerUrl -}}
{{- else -}}
{{- .Values.auth.issuer -}}
{{- end -}}
{{- end -}}

{{/* How a service verifies tokens and gets its own: public keys only, and client credentials. */}}
{{- define "suiji.serviceAuthEnv" -}}
{{- if eq .Values.auth.mode "oidc" }}
- name: SUIJI_AUTH__JWKS
  value: {{ required "auth.oidc.jwksUrl is required with auth.mode oidc (the provider's jwks_uri)" .Values.auth.oidc.jwksUrl | quote }}
- name: SUIJI_AUTH__TOKEN_URL
  value: {{ required "auth.oidc.tokenUrl is required with auth.mode oidc (the provider's token endpoint)" .Values.auth.oidc.tokenUrl | quote }}
{{- else }}
- name: SUIJI_AUTH__JWKS
  value: {{ printf "%s/.well-known/jwks.json" (include "suiji.consoleUrl" .) | quote }}
- name: SUIJI_AUTH__TOKEN_URL
  value: {{ printf "%s/oauth/token" (include "suiji.consoleUrl" .) | quote }}
{{- end }}
- name: SUIJI_AUTH__CLIENT_ID
  value: {{ .Values.auth.servicesClientId | quote }}
- name: SUIJI_AUTH__CLIENT_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "suiji.secretName" . }}, key: services-client-secret}}
{{- end -}}

{{/* The console: the issuer's key (local sign-in), or the provider's keys and its own client (OIDC). */}}
{{- define "suiji.consoleAuthEnv" -}}
{{- if eq .Values.auth.mode "oidc" }}
- name: SUIJI_AUTH__JWKS
  value: {{ .Values.auth.oidc.jwksUrl | quote }}
- name: SUIJI_CONSOLE__OIDC__ISSUER_URL
  value: {{ .Values.auth.oidc.issuerUrl | quote }}
- name: SUIJI_CONSOLE__OIDC__CLIENT_ID
  value: {{ required "auth.oidc.clientId is required with auth.mode oidc" .Values.auth.oidc.clientId | quote }}
- name: SUIJI_CONSOLE__OIDC__CLIENT_SECRET
  valueFrom: {secretKeyRef: {name: {{ include "suiji.secretName" . }}, key: oidc-client-secret}}
- name: SUIJI_CONSOLE__OIDC__REDIRECT_URL
  value: {{ required "auth.oidc.redirectUrl is required with auth.mode oidc" .Values.auth.oidc.redirectUrl | quote }}
- name: SUIJI_CONSOLE__OIDC__RESOURCE
  value: {{ .Values.auth.oidc.resource | quote }}
- name: SUIJI_CONSOLE__OIDC__LABEL
  value: {{ .Values.auth.oidc.label | quote }}
{{- else }}
- name: SUIJI_AUTH__SIGNING_KEY
  valueFrom: {secretKeyRef: {name: {{ include "suiji.secretName" . }}, key: signing-key}}
- name: SUIJI_CONFIG_FILE
  value: /etc/suiji/console.toml
{{- end }}
{{- end -}}

{{/* The console's clients: the services get their tokens from it by client credentials (local sign-in). */}}
{{- define "suiji.consoleConfig" -}}
{{- $sha := .Values.auth.servicesClientSecretSha256 -}}
{{- if not $sha -}}
{{- if .Values.secrets.existingSecret -}}
{{- $sha = required "auth.servicesClientSecretSha256 is required with secrets.existingSecret (`suiji keys client-secret` prints it)" "" -}}
{{- else -}}
{{- $sha = sha256sum .Values.secrets.servicesClientSecret -}}
{{- end -}}
{{- end -}}
[[console.clients]]
id = {{ .Values.auth.servicesClientId | quote }}
secret_sha256 = {{ $sha | quote }}
department = "system"
roles = ["service"]
{{- end -}}
