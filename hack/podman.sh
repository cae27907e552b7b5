# Sourced by the image scripts: podman as this kind of machine runs it. runc, not crun (crun
# refuses hybrid cgroups here); cgroupfs and file events, as there is no systemd; storage and
# runtime state in podman's defaults for root.
pm() {
  podman --runtime runc --cgroup-manager cgroupfs --events-backend file "$@"
}
