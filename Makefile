# What people type. CMake does the work; see CMakePresets.json for the builds.
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all build run test bench fuzz deps clean

all: build

deps:
	@scripts/deps

build: deps
	@cmake --preset dev >/dev/null
	@cmake --build build -j $(JOBS) -- --no-print-directory

# Until `aclm serve` exists, the main job: inventory this machine's CA bundle.
run: build
	@scripts/run-demo build/aclm

# The CI job: sanitizer build, unit + integration tests.
test: deps
	@cmake --preset asan >/dev/null
	@cmake --build build-asan -j $(JOBS) -- --no-print-directory
	@cd build-asan && ctest --output-on-failure -j $(JOBS)

bench: deps
	@cmake --preset release >/dev/null
	@cmake --build build-release -j $(JOBS) -- --no-print-directory
	@bench/inventory/run build-release
	@bench/acme-client/run build-release
	@bench/acme-ca/run build-release
	@bench/scan/run build-release
	@bench/deploy/run build-release
	@bench/api/run build-release

fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build-fuzz -j $(JOBS) -- --no-print-directory
	@scripts/run-fuzz build-fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-asan build-release build-fuzz
