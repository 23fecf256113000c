# QuixoticWhisper Studio. `make run` and `make test` install what they lack (scripts/setup.sh).
SHELL := /bin/bash
export CARGO_TERM_COLOR ?= never

.PHONY: setup build run test test-rust test-python test-node test-functions test-backend bench clean-data

setup:
	@scripts/setup.sh

build:
	cargo build --workspace

run: setup build
	@scripts/run.sh

test: setup build
	cargo test --workspace
	$(MAKE) --no-print-directory test-functions test-python test-node test-backend

test-python:
	.venv/bin/python -m pytest -q tests/sdk-python

test-functions:
	.venv/bin/python -m pytest -q functions

test-backend:
	.venv/bin/python -m pytest -q tests/backend

test-node:
	cd tests/sdk-node && node --test --test-concurrency=1

bench: setup
	cargo build --release -p studio -p qw-bench
	scripts/bench.sh

clean-data:
	rm -rf .qw/data
