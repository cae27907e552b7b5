# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: test demo crd manifests control-plane

control-plane:
	@bash hack/build-control-plane.sh >/dev/null

# Runs every test: unit tests, the Quay emulator, and end-to-end tests against a real API server.
test: control-plane
	QAO_CONTROL_PLANE_BIN="$$(bash hack/build-control-plane.sh | tail -n 1)" cargo test --workspace --locked

# Regenerates the CRD YAML from the Rust types: `crd` prints every CRD (ApiToken, Application),
# and each goes to crds/<group>_<plural>.yaml after its metadata.name (<plural>.<group>).
crd:
	cargo run -q -- crd > target/crds.yaml
	awk '/^---$$/ { n++ } \
	  n && !file[n] && /^  name: / { split($$2, p, "."); file[n] = "crds/" substr($$2, length(p[1]) + 2) "_" p[1] ".yaml" } \
	  { doc[n] = doc[n] $$0 "\n" } \
	  END { for (i = 1; i <= n; i++) printf "%s", doc[i] > file[i] }' target/crds.yaml

demo: control-plane
	bash hack/demo.sh
