{{/* Temporal TLS / mTLS / API key for both processes: files mounted from Secrets (never values in
the manifests or the environment), named by MEDIC_TEMPORAL_TLS_*_FILE / MEDIC_TEMPORAL_API_KEY_FILE. */}}
{{- define "medic.temporalAuthEnv" -}}
{{- $tls := .Values.temporal.tls -}}
{{- if or $tls.enabled $tls.existingSecret }}
- name: MEDIC_TEMPORAL_TLS
  value: "true"
{{- end }}
{{- if $tls.existingSecret }}
{{- if $tls.caKey }}
- name: MEDIC_TEMPORAL_TLS_CA_FILE
  value: {{ printf "/etc/medic/temporal-tls/%s" $tls.caKey | quote }}
{{- end }}
{{- if and $tls.certKey $tls.keyKey }}
- name: MEDIC_TEMPORAL_TLS_CERT_FILE
  value: {{ printf "/etc/medic/temporal-tls/%s" $tls.certKey | quote }}
- name: MEDIC_TEMPORAL_TLS_KEY_FILE
  value: {{ printf "/etc/medic/temporal-tls/%s" $tls.keyKey | quote }}
{{- end }}
{{- end }}
{{- with $tls.serverName }}
- name: MEDIC_TEMPORAL_TLS_SERVER_NAME
  value: {{ . | quote }}
{{- end }}
{{- with .Values.temporal.apiKey.existingSecret }}
- name: MEDIC_TEMPORAL_API_KEY_FILE
  value: /etc/medic/temporal-api-key/api-key
{{- end }}
{{- end -}}

{{- define "medic.temporalAuthVolumes" -}}
{{- $tls := .Values.temporal.tls -}}
{{- if $tls.existingSecret }}
- name: temporal-tls
  secret:
    secretName: {{ $tls.existingSecret }}
    defaultMode: 288 # 0440: owner and group (fsGroup) read
    items:
      {{- if $tls.caKey }}
      - { key: {{ $tls.caKey | quote }}, path: {{ $tls.caKey | quote }} }
      {{- end }}
      {{- if and $tls.certKey $tls.keyKey }}
      - { key: {{ $tls.certKey | quote }}, path: {{ $tls.certKey | quote }} }
      - { key: {{ $tls.keyKey | quote }}, path: {{ $tls.keyKey | quote }} }
      {{- end }}
{{- end }}
{{- with .Values.temporal.apiKey.existingSecret }}
- name: temporal-api-key
  secret:
    secretName: {{ . }}
    defaultMode: 288 # 0440: owner and group (fsGroup) read
    items:
      - { key: {{ $.Values.temporal.apiKey.key | quote }}, path: api-key }
{{- end }}
{{- end -}}

{{- define "medic.temporalAuthMounts" -}}
{{- if .Values.temporal.tls.existingSecret }}
- name: temporal-tls
  mountPath: /etc/medic/temporal-tls
  readOnly: true
{{- end }}
{{- if .Values.temporal.apiKey.existingSecret }}
- name: temporal-api-key
  mountPath: /etc/medic/temporal-api-key
  readOnly: true
{{- end }}
{{- end -}}
