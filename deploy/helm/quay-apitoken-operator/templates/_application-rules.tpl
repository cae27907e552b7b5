{{/*
What the Application controller needs besides the ApiToken rules: its own resource and status (Secrets and Events are in those rules already). Shared by the ClusterRole and the
per-namespace Roles, like them.
*/}}
{{- define "quay-apitoken-operator.applicationRules" -}}
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["applications"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["applications/status"]
  verbs: ["patch"]
{{- end }}
