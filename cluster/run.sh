#!/usr/bin/env bash
# Starts the cluster testbed for manual poking and tears it down on Ctrl-C.
#   cluster/run.sh [-n 3] [--delay-ms 25] [--join] [--names a.test,b.test]
#   cluster/run.sh cleanup        # remove what a killed run left behind
# EDGE_BIN selects the binary (default: .build/release/edge of this repository).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
    echo "error: the cluster testbed must run as root (it creates a bridge, network namespaces and veth pairs," >&2
    echo "and runs edge on ports 80/443 inside them): sudo $0 $*" >&2
    exit 1
fi
cd "$(dirname "$0")"
if [ "${1:-}" = cleanup ]; then
    exec python3 -m testbed cleanup
fi
exec python3 -m testbed up "$@"
