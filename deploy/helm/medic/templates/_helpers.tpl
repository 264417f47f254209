{{/* Names and labels shared by every template. */}}
{{- define "medic.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "medic.fullname" -}}
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

{{- define "medic.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "medic.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: call with (dict "root" $ "component" "worker"). */}}
{{- define "medic.selectorLabels" -}}
app.kubernetes.io/name: {{ include "medic.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "medic.serviceAccountName" -}}
{{- $sa := index .root.Values.serviceAccount .component -}}
{{- if $sa.create -}}
{{- default (printf "%s-%s" (include "medic.fullname" .root) .component) $sa.name -}}
{{- else -}}
{{- default "default" $sa.name -}}
{{- end -}}
{{- end -}}

{{- define "medic.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "medic.existingSecret" -}}
{{- required "secrets.existingSecret is required: the name of a Secret holding MEDIC_INTAKE_TOKEN (and other MEDIC_* secrets); the chart never renders secret values" .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "medic.playbooksConfigMap" -}}
{{- if .Values.playbooks.existingConfigMap -}}
{{- .Values.playbooks.existingConfigMap -}}
{{- else if .Values.playbooks.inline -}}
{{- printf "%s-playbooks" (include "medic.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* Environment both processes share: Temporal, the config file, playbooks. */}}
{{- define "medic.commonEnv" -}}
- name: MEDIC_TEMPORAL_ADDRESS
  value: {{ .Values.temporal.address | quote }}
- name: MEDIC_TEMPORAL_NAMESPACE
  value: {{ .Values.temporal.namespace | quote }}
- name: MEDIC_TEMPORAL_TASK_QUEUE
  value: {{ .Values.temporal.taskQueue | quote }}
{{- with .Values.temporal.uiUrl }}
- name: MEDIC_TEMPORAL_UI_URL
  value: {{ . | quote }}
{{- end }}
- name: MEDIC_CONFIG
  value: /etc/medic/config/medic.yaml
{{- if include "medic.playbooksConfigMap" . }}
- name: MEDIC_PLAYBOOKS
  value: /etc/medic/playbooks
{{- end }}
- name: NODE_ENV
  value: production
{{- include "medic.temporalAuthEnv" . }}
{{- end -}}

{{/* Volumes both processes share: config, playbooks, a writable /tmp (read-only root fs). */}}
{{- define "medic.volumes" -}}
- name: config
  configMap:
    name: {{ include "medic.fullname" . }}-config
{{- with include "medic.playbooksConfigMap" . }}
- name: playbooks
  configMap:
    name: {{ . }}
{{- end }}
- name: tmp
  emptyDir: {}
- name: data
  {{- if .Values.persistence.existingClaim }}
  persistentVolumeClaim:
    claimName: {{ .Values.persistence.existingClaim }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- include "medic.temporalAuthVolumes" . }}
{{- end -}}

{{- define "medic.volumeMounts" -}}
- name: config
  mountPath: /etc/medic/config
  readOnly: true
{{- if include "medic.playbooksConfigMap" . }}
- name: playbooks
  mountPath: /etc/medic/playbooks
  readOnly: true
{{- end }}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/medic
{{- include "medic.temporalAuthMounts" . }}
{{- end -}}
