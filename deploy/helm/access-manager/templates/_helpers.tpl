{{- define "access-manager.labels" -}}
app.kubernetes.io/name: access-manager
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
