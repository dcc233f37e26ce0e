# The two commands: `make run` and `make test`. Both install what is missing first.
.PHONY: run test bootstrap bootstrap-test build-release test-rust test-e2e fmt lint

SHELL := /bin/bash
# binaryen's wasm-opt from npm (see scripts/bootstrap.sh) comes before any other on PATH.
export PATH := $(CURDIR)/tools/node_modules/.bin:$(PATH)

run: bootstrap build-release
	./target/release/plaster serve

test: bootstrap-test test-rust build-release test-e2e

bootstrap:
	scripts/bootstrap.sh build

bootstrap-test:
	scripts/bootstrap.sh test

build-release:
	cargo leptos build --release

# Every integration test runs on SQLite and on PostgreSQL (see server/tests/api/helpers.rs).
test-rust:
	cargo test --workspace

test-e2e:
	scripts/e2e.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings
