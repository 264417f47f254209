{{/* The audit log (values `audit`): written by the worker only, to a PersistentVolumeClaim, keyed
with a key from a Secret mounted as a file, checkpoints to a separate claim and/or a webhook or
Slack channel. One SQLite file has one writer: values.schema.json refuses worker.replicas > 1
with audit on. */}}
{{- define "medic.audit.check" -}}
{{- if .Values.audit.enabled -}}
{{- if not (or .Values.audit.checkpoints.file.enabled .Values.audit.checkpoints.webhookUrl .Values.audit.checkpoints.slackChannel) -}}
{{- fail "audit.checkpoints: enable at least one sink (file.enabled, webhookUrl or slackChannel): without exported checkpoints a rewritten or truncated log cannot be detected" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "medic.audit.claimName" -}}
{{- default (printf "%s-audit" (include "medic.fullname" .)) .Values.audit.persistence.existingClaim -}}
{{- end -}}

{{- define "medic.audit.checkpointsClaimName" -}}
{{- default (printf "%s-audit-checkpoints" (include "medic.fullname" .)) .Values.audit.checkpoints.file.existingClaim -}}
{{- end -}}

{{- define "medic.audit.env" -}}
- name: MEDIC_AUDIT_PATH
  value: /var/lib/medic-audit/audit.db
- name: MEDIC_AUDIT_KEY_FILE
  value: /etc/medic/audit-key/key
- name: MEDIC_AUDIT_CHECKPOINT_EVERY
  value: {{ .Values.audit.checkpoints.everyEntries | quote }}
- name: MEDIC_AUDIT_CHECKPOINT_INTERVAL
  value: {{ .Values.audit.checkpoints.intervalSeconds | quote }}
{{- if .Values.audit.checkpoints.file.enabled }}
- name: MEDIC_AUDIT_CHECKPOINT_FILE
  value: /var/lib/medic-audit-checkpoints/checkpoints.jsonl
{{- end }}
{{- with .Values.audit.checkpoints.webhookUrl }}
- name: MEDIC_AUDIT_CHECKPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.audit.checkpoints.slackChannel }}
- name: MEDIC_AUDIT_CHECKPOINT_SLACK_CHANNEL
  value: {{ . | quote }}
{{- end }}
{{- end -}}

{{- define "medic.audit.volumes" -}}
- name: audit
  persistentVolumeClaim:
    claimName: {{ include "medic.audit.claimName" . }}
- name: audit-key
  secret:
    secretName: {{ .Values.audit.keySecret.name }}
    defaultMode: 288 # 0440: group-readable, the pod reads it as its fsGroup
    items:
      - key: {{ .Values.audit.keySecret.key }}
        path: key
{{- if .Values.audit.checkpoints.file.enabled }}
- name: audit-checkpoints
  persistentVolumeClaim:
    claimName: {{ include "medic.audit.checkpointsClaimName" . }}
{{- end }}
{{- end -}}

{{- define "medic.audit.volumeMounts" -}}
- name: audit
  mountPath: /var/lib/medic-audit
- name: audit-key
  mountPath: /etc/medic/audit-key
  readOnly: true
{{- if .Values.audit.checkpoints.file.enabled }}
- name: audit-checkpoints
  mountPath: /var/lib/medic-audit-checkpoints
{{- end }}
{{- end -}}
