# The two commands: `make run` and `make test`. Both install what is missing first.
.PHONY: run test test-steps test-faults bootstrap bootstrap-test build-release check-layout test-rust test-e2e test-api-fuzz fmt lint

SHELL := /bin/bash
# binaryen's wasm-opt from npm (see scripts/bootstrap.sh) comes before any other on PATH.
export PATH := $(CURDIR)/tools/node_modules/.bin:$(PATH)

run: bootstrap build-release
	./target/release/plaster serve --demo

test: bootstrap-test
	scripts/lib/private-postgres.sh run $(MAKE) --no-print-directory test-steps

# With PostgreSQL reachable (PLASTER_TEST_PG_URL, 127.0.0.1:5432, or the
# private server `make test` starts when neither answers).
test-steps: check-layout test-rust build-release test-faults test-e2e test-api-fuzz

# Exactly once through SIGKILL, short and deterministic: kills at fixed points
# of progress in posting and in payout delivery, on both backends (the long
# random version is bench/ledger/faults.py).
test-faults:
	scripts/faults-short.sh

bootstrap:
	scripts/bootstrap.sh build

bootstrap-test:
	scripts/bootstrap.sh test

build-release:
	cargo leptos build --release

# No module of the server crate may import one of its importers (docs/architecture.md);
# the checker's own tests run first, so a broken checker cannot pass everything.
check-layout:
	python3 scripts/test_check_import_cycles.py
	python3 scripts/check-import-cycles.py

# Every integration test runs on SQLite and on PostgreSQL (see server/tests/api/helpers.rs).
test-rust:
	cargo test --workspace

test-e2e:
	scripts/e2e.sh

# schemathesis against /api/v2/openapi.json: no server error, nothing the document does not describe.
test-api-fuzz:
	scripts/api-fuzz.sh

fmt:
	cargo fmt --all

# The browser half of app/ (the islands) only compiles for wasm: lint it there too.
lint:
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p app --no-default-features --features hydrate --target wasm32-unknown-unknown -- -D warnings
