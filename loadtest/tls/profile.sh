#!/usr/bin/env bash
# Where a full TLS handshake's CPU goes: edge and nginx (same leaf, same config as bench.sh) under
# valgrind's callgrind, driven by hsbench. Prints instructions per handshake, split by shared object
# (libcrypto / libssl / libc / the server itself / Swift runtime), and the top functions of each.
# Instruction counts do not depend on the machine's load, so this is the stable way to compare.
#
#   loadtest/tls/profile.sh                       # edge (if it accepts the config) and nginx
#   SERVERS="nginx nginx_tickets" loadtest/tls/profile.sh
#
# Environment: SERVERS, EDGE_BIN, SECONDS_LOAD (20), CONNECTIONS (8), TOP (25 functions), OUT_DIR (keep
# the callgrind files there). Ports: EDGE_HTTPS_PORT 29043, EDGE_HTTP_PORT 29080, NGINX_PORT 29044.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

SECONDS_LOAD=${SECONDS_LOAD:-20}
CONNECTIONS=${CONNECTIONS:-8}
TOP=${TOP:-25}
EDGE_HTTPS_PORT=${EDGE_HTTPS_PORT:-29043}
EDGE_HTTP_PORT=${EDGE_HTTP_PORT:-29080}
NGINX_PORT=${NGINX_PORT:-29044}
OUT_DIR=${OUT_DIR:-}
SERVERS=${SERVERS:-}

for tool in valgrind callgrind_control callgrind_annotate objcopy nginx openssl cc python3; do
  command -v "$tool" >/dev/null || { echo "profile.sh: $tool is required (apt-get install valgrind binutils)" >&2; exit 1; }
done

SCRIPT=profile.sh
source "$HERE/../lib.sh"
find_edge
on_exit() {  # keep the callgrind files when asked
  if [[ -n $OUT_DIR ]]; then mkdir -p "$OUT_DIR"; cp "$WORK"/*.cg "$WORK"/*.txt "$OUT_DIR"/ 2>/dev/null || true; fi
}
lib_setup edge-tls-profile
make_bench_certificate
cc -O2 -o "$WORK/hsbench" "$HERE/hsbench.c" -lssl -lcrypto
sed -e "s|@HTTPS_PORT@|$EDGE_HTTPS_PORT|g" -e "s|@HTTP_PORT@|$EDGE_HTTP_PORT|g" -e "s|@DIR@|$WORK|g" \
  "$HERE/edge.Caddyfile" >"$WORK/Caddyfile"
sed -e "s|@PORT@|$NGINX_PORT|g" -e "s|@DIR@|$WORK|g" "$HERE/nginx.conf" >"$WORK/nginx.conf"
sed -e "s|ssl_session_tickets off;|ssl_session_tickets on;|" "$WORK/nginx.conf" >"$WORK/nginx_tickets.conf"

if [[ -z $SERVERS ]]; then
  SERVERS="nginx"
  if [[ -n $EDGE ]] && "$EDGE" validate --config "$WORK/Caddyfile" >/dev/null 2>&1; then
    SERVERS="edge nginx"
  else
    echo "NOTE: no edge binary that accepts the TLS configuration: profiling nginx ONLY." >&2
  fi
fi

for s in $SERVERS; do
  case $s in
    edge)
      # valgrind 3.19 cannot read the DWARF 5 debug info of Swift binaries: profile a copy without it
      # (the symbol table stays, so functions keep their names)
      objcopy --strip-debug "$EDGE" "$WORK/edge"
      port=$EDGE_HTTPS_PORT
      taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$WORK/$s.%p.cg" "$WORK/edge" run \
        --config "$WORK/Caddyfile" >"$WORK/$s-server.txt" 2>&1 &
      ;;
    nginx|nginx_tickets)
      port=$NGINX_PORT
      taskset -c 0 valgrind --tool=callgrind --callgrind-out-file="$WORK/$s.%p.cg" nginx -c "$WORK/$s.conf" \
        -p "$WORK" -e "$WORK/$s-error.log" -g 'daemon off; master_process off;' >"$WORK/$s-server.txt" 2>&1 &
      ;;
    *) echo "profile.sh: unknown server $s (edge, nginx, nginx_tickets)" >&2; exit 1 ;;
  esac
  pid=$!
  PIDS+=("$pid")
  for i in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "profile.sh: $s exited:" >&2; tail "$WORK/$s-server.txt" >&2; exit 1; }
    sleep 0.2
  done
  # warm-up (first certificate lookups, lazy initialisation), then count only the load window
  taskset -c 1 "$WORK/hsbench" -c 4 -d 3 127.0.0.1 "$port" >"$WORK/$s-warmup.txt"
  callgrind_control -z "$pid" >/dev/null 2>&1
  taskset -c 1 "$WORK/hsbench" -c "$CONNECTIONS" -d "$SECONDS_LOAD" 127.0.0.1 "$port" >"$WORK/$s-load.txt"
  callgrind_control -d load "$pid" >/dev/null 2>&1
  stop_pid "$pid"
  dump=$(ls "$WORK/$s".*.cg.1 2>/dev/null | head -n 1) || true
  [[ -n $dump ]] || { echo "profile.sh: no callgrind dump for $s" >&2; exit 1; }
  mv "$dump" "$WORK/$s.load.cg"
  callgrind_annotate --inclusive=no --threshold=100 "$WORK/$s.load.cg" >"$WORK/$s-annotate.txt" 2>/dev/null
  echo "== $s: $(cat "$WORK/$s-load.txt")" | tee -a "$WORK/summary.txt"
  python3 - "$WORK/$s-annotate.txt" "$WORK/$s-load.txt" "$TOP" <<'EOF' | tee -a "$WORK/summary.txt"
import collections, re, sys
n = int(re.search(r"handshakes=(\d+)", open(sys.argv[2]).read()).group(1))
top = int(sys.argv[3])
by_obj, by_fn = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*?)\s*\[(.*)\]\s*$", line)
    if not m or float(m.group(2)) >= 99.9:   # skip thread-entry frames that callgrind books at 100%
        continue
    ir, obj = int(m.group(1).replace(",", "")), m.group(4).rsplit("/", 1)[-1]
    by_obj[obj] += ir
    by_fn[(m.group(3).split(":", 1)[-1], obj)] += ir
total = sum(by_obj.values())
print("instructions per handshake: %.0f (%d handshakes)" % (total / n, n))
for obj, ir in by_obj.most_common(8):
    print("  %-26s %10.0f  %5.1f%%" % (obj, ir / n, 100 * ir / total))
print("top functions (instructions per handshake):")
for (fn, obj), ir in by_fn.most_common(top):
    print("  %9.0f  %s [%s]" % (ir / n, fn[:110], obj))
EOF
done
