# edge: `make run` starts a node; `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SWIFT ?= swift
CONFIG ?= release
EDGE := .build/$(CONFIG)/edge
# The Swift runtime is linked in, so the binary runs where no toolchain is installed (the .deb, containers).
SWIFT_BUILD_FLAGS ?= --static-swift-stdlib

# Debian packages the build and the tests need; the benchmarks add the proxies they compare against.
DEB_BUILD := pkg-config libuv1-dev libssl-dev libhiredis-dev zlib1g-dev libzstd-dev libpcre2-dev libcrypt-dev binutils libnghttp2-dev
DEB_TEST := curl openssl python3 python3-pip zstd opentracker iproute2 iptables util-linux pebble redis-server systemd prometheus slowhttptest gcc libc6-dev nghttp2-client
DEB_BENCH := nginx-light wrk haproxy caddy testssl.sh valgrind
PY_TEST := websockets pytest h11 h2 wsproto

.PHONY: deps deps-bench build deb run test unit integration cluster-test loadtest bench bench-core bench-observe bench-files bench-tls tls-scan bench-hostile fuzz tsan asan clean

deps:
	@missing=""; for p in $(DEB_BUILD) $(DEB_TEST); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi
	@python3 -c 'import websockets, pytest, h11, h2, wsproto' 2>/dev/null || python3 -m pip install -q $(PY_TEST)

deps-bench: deps
	@missing=""; for p in $(DEB_BENCH); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi
	@python3 -c 'import matplotlib' 2>/dev/null || python3 -m pip install -q matplotlib

build: deps
	$(SWIFT) build -c $(CONFIG) --product edge $(SWIFT_BUILD_FLAGS)

# .build/deb/edge_<version>_<arch>.deb: the binary, the systemd units, /etc/edge/Caddyfile (deploy/debian).
deb: build
	deploy/debian/build-deb.sh $(EDGE) .build/deb

# A node on http://localhost:8080 with a proxied route to a demo upstream (stopped when edge stops).
run: build
	@python3 deploy/demo/upstream.py 8081 & up=$$!; trap "kill $$up 2>/dev/null" EXIT; \
	echo "edge on https://localhost:8443 (local CA root: .edge-storage/pki/authorities/local/root.crt; demo upstream on 127.0.0.1:8081); Ctrl-C stops both"; \
	$(EDGE) run --config deploy/demo/Caddyfile

test: build unit integration cluster-test

unit: deps
	$(SWIFT) test

integration: build
	EDGE_BIN=$(abspath $(EDGE)) python3 -m pytest -q Tests/integration

# Several nodes in network namespaces (regions) with Redis, pebble and latency between them (needs root).
cluster-test: build
	EDGE_BIN=$(abspath $(EDGE)) python3 -m pytest -q cluster

# The load-test suite (loadtest/suite): edge, nginx, HAProxy and Caddy side by side on tracker and
# WebSocket traffic. `loadtest` is the smoke version (under 3 minutes); `bench` the full run, which writes
# loadtest/results/<date>.md and its plots.
loadtest: deps-bench build
	EDGE_BIN=$(abspath $(EDGE)) python3 loadtest/suite/run.py --smoke

bench: deps-bench build
	EDGE_BIN=$(abspath $(EDGE)) python3 loadtest/suite/run.py --report loadtest/results/$$(date +%F).md

# edge vs nginx as plain keep-alive reverse proxies (loadtest/core; TLS=1 for HTTPS).
bench-core: deps-bench build
	EDGE_BIN=$(abspath $(EDGE)) loadtest/core/bench.sh

# Request metrics and access logs on vs off (loadtest/observe).
bench-observe: deps-bench build
	EDGE_BIN=$(abspath $(EDGE)) loadtest/observe/bench.sh

bench-files: deps-bench build
	EDGE_BIN=$(abspath $(EDGE)) loadtest/files/bench.sh

bench-tls: deps-bench build
	EDGE_BIN=$(abspath $(EDGE)) NGINX_TICKETS=1 loadtest/tls/bench.sh

tls-scan: deps-bench build
	EDGE_BIN=$(abspath $(EDGE)) loadtest/tls/scan.sh

# Slowloris, slow body, slow read, connection floods and half-open TLS against default limits, a minute
# each: loadtest/results/<date>-hostile.md.
bench-hostile: deps build
	EDGE_BIN=$(abspath $(EDGE)) python3 loadtest/harden/attacks.py

# libFuzzer harnesses (Tests/fuzz, a package of their own) with AddressSanitizer, FUZZ_SECONDS (60) each,
# from the committed seed corpora. A crash or a broken invariant fails the run; its input is left in
# .build-fuzz/artifacts/<harness>/.
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) Tests/fuzz/run.sh

# The integration suite against sanitizer builds of the node. A report fails the run.
# (LeakSanitizer is off: Swift's tagged pointers in weak-reference side tables and enum payloads make it
# report constant-size, still-reachable blocks at exit. test_deb.py is left out: the Debian package is
# built from a release binary with the Swift runtime linked in, which a sanitizer build is not.)
tsan: deps
	$(SWIFT) build --sanitize=thread --product edge --scratch-path .build-tsan
	rm -rf .build-tsan/reports && mkdir -p .build-tsan/reports
	TSAN_OPTIONS="halt_on_error=0 log_path=$(abspath .build-tsan/reports)/edge" \
	  EDGE_BIN=$(abspath .build-tsan/debug/edge) python3 -m pytest -q Tests/integration --deselect Tests/integration/test_deb.py
	@if ls .build-tsan/reports/* >/dev/null 2>&1; then cat .build-tsan/reports/*; exit 1; fi; echo "tsan: no reports"

asan: deps
	$(SWIFT) build --sanitize=address --product edge --scratch-path .build-asan
	rm -rf .build-asan/reports && mkdir -p .build-asan/reports
	ASAN_OPTIONS="detect_leaks=0 log_path=$(abspath .build-asan/reports)/edge" \
	  EDGE_BIN=$(abspath .build-asan/debug/edge) python3 -m pytest -q Tests/integration --deselect Tests/integration/test_deb.py
	@if ls .build-asan/reports/* >/dev/null 2>&1; then cat .build-asan/reports/*; exit 1; fi; echo "asan: no reports"

clean:
	rm -rf .build .build-tsan .build-asan .build-fuzz
