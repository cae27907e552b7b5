# The two commands a newcomer needs: `make demo` and `make test`.
.PHONY: test demo crd manifests control-plane

control-plane:
	@bash hack/build-control-plane.sh >/dev/null

# Runs every test: unit tests, the Quay emulator, and end-to-end tests against a real API server.
test: control-plane
	QAO_CONTROL_PLANE_BIN="$$(bash hack/build-control-plane.sh | tail -n 1)" cargo test --workspace --locked

# Regenerates the CRD YAML from the Rust types.
crd:
	cargo run -q -- crd > crds/quay.herve4m.github.io_apitokens.yaml

demo: control-plane
	bash hack/demo.sh
