{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "agno-session.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name alone when it already contains the chart name. */}}
{{- define "agno-session.fullname" -}}
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

{{- define "agno-session.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels. app.kubernetes.io/name is also the ServiceMonitor's jobLabel (job="agno-session"). */}}
{{- define "agno-session.labels" -}}
helm.sh/chart: {{ include "agno-session.chart" . }}
{{ include "agno-session.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: api
app.kubernetes.io/part-of: agno
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "agno-session.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agno-session.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "agno-session.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "agno-session.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the pods read: the user's existing one or the chart's own. */}}
{{- define "agno-session.secretName" -}}
{{- default (include "agno-session.fullname" .) .Values.existingSecret }}
{{- end }}

{{- define "agno-session.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* True when the chart knows of a database: an existing Secret or an inline DSN / DSN map. */}}
{{- define "agno-session.hasDatabase" -}}
{{- if or .Values.existingSecret .Values.secret.dsn .Values.secret.dsnMap }}true{{ end }}
{{- end }}
