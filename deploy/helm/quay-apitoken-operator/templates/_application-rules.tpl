{{/*
What the Application controller needs besides the ApiToken rules: its own resource, status and
finalizers (Secrets and Events are in those rules already). Shared by the ClusterRole and the
per-namespace Roles, like them.
*/}}
{{- define "quay-apitoken-operator.applicationRules" -}}
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["applications"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["applications/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["applications/finalizers"]
  verbs: ["update"]
{{- end }}
