# QuixoticWhisper Studio. `make run` and `make test` install what they lack (scripts/setup.sh).
SHELL := /bin/bash
export CARGO_TERM_COLOR ?= never

.PHONY: setup build run test test-rust test-python test-node bench clean-data

setup:
	@scripts/setup.sh

build:
	cargo build --workspace

run: setup build
	@scripts/run.sh

test: setup build
	cargo test --workspace
	$(MAKE) --no-print-directory test-python test-node

test-python:
	.venv/bin/python -m pytest -q tests/sdk-python

test-node:
	cd tests/sdk-node && node --test --test-concurrency=1

bench: setup
	cargo build --release -p studio -p qw-bench
	scripts/bench.sh

clean-data:
	rm -rf .qw/data
