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
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* PromQL matchers selecting this release's series: the job the chart's ServiceMonitor gives them. */}}
{{- define "quay-apitoken-operator.promSelector" -}}
{{- default (printf "job=%q" (printf "%s-metrics" (include "quay-apitoken-operator.fullname" .))) .Values.metrics.prometheusRule.selector }}
{{- end }}

{{/*
What the controller needs, and nothing more. Shared by the ClusterRole (all namespaces) and the
per-namespace Roles (watchNamespaces). Leases are not here: they live in their own Role,
limited to the release namespace.
*/}}
{{- define "quay-apitoken-operator.rules" -}}
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["apitokens"]
  verbs: ["get", "list", "watch", "patch", "update"]
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["apitokens/status"]
  verbs: ["get", "patch", "update"]
- apiGroups: ["quay.herve4m.github.io"]
  resources: ["apitokens/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "create", "patch", "update", "delete"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if eq .Values.crossNamespaceRefs "grant" }}
# The consent of other namespaces (--cross-namespace-refs=grant): read only.
- apiGroups: ["gateway.networking.k8s.io"]
  resources: ["referencegrants"]
  verbs: ["get", "list", "watch"]
{{- end }}
{{- end }}
