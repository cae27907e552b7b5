{{/* Chart name, overridable. */}}
{{- define "quay-apitoken-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "quay-apitoken-operator.fullname" -}}
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

{{- define "quay-apitoken-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "quay-apitoken-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "quay-apitoken-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "quay-apitoken-operator.labels" -}}
helm.sh/chart: {{ include "quay-apitoken-operator.chart" . }}
{{ include "quay-apitoken-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "quay-apitoken-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "quay-apitoken-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Lease is named after the release so two releases in one namespace never share it. */}}
{{- define "quay-apitoken-operator.leaseName" -}}
{{- default (include "quay-apitoken-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* No public image exists: the repository is the user's own, so an unset one fails here. */}}
{{- define "quay-apitoken-operator.image" -}}
{{- $repository := required "image.repository is not set: no public image of quay-apitoken-operator is published. Build it from the Dockerfile, push it to a registry your cluster can pull from, and install with --set image.repository=<registry>/<path>/quay-apitoken-operator (README, \"Building the image\")" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The uid and gid the pod runs as; none on OpenShift, whose restricted-v2 SCC assigns them from
the namespace's range and refuses a fixed one outside it.
*/}}
{{- define "quay-apitoken-operator.runAs" -}}
{{- if not .Values.openshift }}
{{- with .Values.podSecurityContext.runAsUser }}
runAsUser: {{ . }}
{{- end }}
{{- with .Values.podSecurityContext.runAsGroup }}
runAsGroup: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/* PromQL matchers selecting this release's series: the job the chart's ServiceMonitor gives them. */}}
{{- define "quay-apitoken-operator.promSelector" -}}
{{- default (printf "job=%q" (printf "%s-metrics" (include "quay-apitoken-operator.fullname" .))) .Values.metrics.prometheusRule.selector }}
{{- end }}

{{/*
What the controller uses, and nothing more: tests/operator_binary/pod_rights.rs runs the operator
with these rights alone and fails on a rule it never uses as on a request refused. Shared by the
ClusterRole (all namespaces) and the per-namespace Roles (watchNamespaces). Leases are not here:
they live in their own Role, limited to the release namespace.
- apitokens: watched (list, watch); finalizer added and removed by JSON patch.
- apitokens/status: merge patches.
- no apitokens/finalizers: result Secrets name their ApiToken without blockOwnerDeletion, so
  the OwnerReferencesPermissionEnforcement admission (on in OpenShift) does not ask for it.
- secrets: metadata watched (list, watch), data read on demand (get), written by create and
  server-side apply (patch), deleted with their ApiToken.
- events.k8s.io events: created, and patched when one repeats (its series count).
*/}}
{{- define "quay-apitoken-operator.rules" -}}
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["apitokens"]
  verbs: ["list", "watch", "patch"]
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["apitokens/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- include "quay-apitoken-operator.referenceRules" . }}
{{- end }}

{{/*
What lets an object reference another namespace: under crossNamespaceRefs=grant, the Gateway API
ReferenceGrants that say which namespaces consent, watched (list, watch) and never written.
*/}}
{{- define "quay-apitoken-operator.referenceRules" -}}
{{- if eq .Values.crossNamespaceRefs "grant" }}
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["referencegrants"]
  verbs: ["list", "watch"]
{{- end }}
{{- end }}
