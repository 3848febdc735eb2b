#!/usr/bin/env bash
# Core benchmark: edge vs nginx as keep-alive reverse proxies in front of the same nginx upstream.
# See README.md. Everything listens on 127.0.0.1 on free ports picked at runtime; every process this
# script starts is stopped (by PID) when it exits.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-2s}
PROXY_CPU=${PROXY_CPU:-0}   # the proxy under test
LOAD_CPU=${LOAD_CPU:-1}     # the upstream and wrk
RESULTS_DIR=${RESULTS_DIR:-}  # if set, raw wrk outputs and results.tsv are copied there
TLS=${TLS:-0}               # 1: clients speak HTTPS to the proxies (keep-alive; handshakes: loadtest/tls)

for tool in nginx wrk taskset python3 openssl; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required (make deps-bench)" >&2; exit 1; }
done

SCRIPT=bench.sh
source "$HERE/../lib.sh"

# --- the edge binary: EDGE_BIN, else the release build; without it, nginx only -------------------------
find_edge
if [[ -n "$EDGE" ]]; then
  PROXIES=(edge nginx)
  if [[ $EDGE == */debug/* ]]; then
    echo "WARNING: $EDGE looks like a debug build: its numbers say nothing about edge's speed." >&2
  fi
else
  PROXIES=(nginx)
  echo "NOTE: no edge binary (EDGE_BIN unset and $ROOT/.build/release/edge missing): benchmarking nginx ONLY." >&2
  echo "      Build edge (make build) or set EDGE_BIN to compare." >&2
fi

on_exit() {  # keep the raw outputs when asked
  if [[ -n "$RESULTS_DIR" && -d "$WORK" ]]; then
    mkdir -p "$RESULTS_DIR"
    cp "$WORK"/*.txt "$WORK"/results.tsv "$WORK"/*.log "$RESULTS_DIR"/ 2>/dev/null || true
  fi
}
lib_setup edge-bench

render() {  # render TEMPLATE OUT PORT UPSTREAM
  sed -e "s|@PORT@|$3|g" -e "s|@UPSTREAM@|$4|g" -e "s|@DIR@|$WORK|g" "$1" >"$2"
}

# --- TLS mode: one P-256 certificate for bench.test, used by both proxies -------------------------------
SCHEME=http
HOST_HEADER=()
EDGE_TEMPLATE=edge.Caddyfile
NGINX_TEMPLATE=proxy.nginx.conf
if [[ $TLS == 1 ]]; then
  SCHEME=https
  HOST_HEADER=(-H "Host: bench.test")
  EDGE_TEMPLATE=edge.tls.Caddyfile
  NGINX_TEMPLATE=proxy.tls.nginx.conf
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench.test \
    -addext subjectAltName=DNS:bench.test -keyout "$WORK/leaf.key" -out "$WORK/leaf.pem" 2>/dev/null
fi

# --- start the upstream and the proxies ----------------------------------------------------------------
UP_PORT=$(free_port)
render "$HERE/upstream.nginx.conf" "$WORK/upstream.conf" "$UP_PORT" ""
taskset -c "$LOAD_CPU" nginx -c "$WORK/upstream.conf" -p "$WORK" -e "$WORK/upstream.log" -g 'daemon off;' \
  >"$WORK/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_port upstream "$UP_PID" "$UP_PORT"

declare -A PORT PID
for p in "${PROXIES[@]}"; do
  PORT[$p]=$(free_port)
  if [[ $p == edge ]]; then
    render "$HERE/$EDGE_TEMPLATE" "$WORK/Caddyfile" "${PORT[$p]}" "127.0.0.1:$UP_PORT"
    taskset -c "$PROXY_CPU" "$EDGE" run --config "$WORK/Caddyfile" >"$WORK/edge.log" 2>&1 &
  else
    render "$HERE/$NGINX_TEMPLATE" "$WORK/proxy-nginx.conf" "${PORT[$p]}" "127.0.0.1:$UP_PORT"
    taskset -c "$PROXY_CPU" nginx -c "$WORK/proxy-nginx.conf" -p "$WORK" -e "$WORK/nginx.log" \
      -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
  fi
  PID[$p]=$!
  PIDS+=("${PID[$p]}")
  wait_port "$p" "${PID[$p]}" "${PORT[$p]}"
  body=$(python3 - "${PORT[$p]}" "$SCHEME" <<'EOF'
import http.client, socket, ssl, sys
port, scheme = int(sys.argv[1]), sys.argv[2]
if scheme == "https":  # SNI bench.test on 127.0.0.1; the certificate is a throwaway self-signed one
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
    c.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5), server_hostname="bench.test")
else:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
c.request("GET", "/", headers={"Host": "bench.test"} if scheme == "https" else {})
print(c.getresponse().read().decode())
EOF
  ) || { echo "bench.sh: GET / through $p failed" >&2; tail -n 20 "$WORK/$p.log" >&2; exit 1; }
  [[ $body == ok ]] || { echo "bench.sh: $p answered '$body', expected 'ok'" >&2; exit 1; }
done

HZ=$(getconf CLK_TCK)
echo "# edge core benchmark ($SCHEME): ${PROXIES[*]} | wrk -t$THREADS -c$CONNECTIONS -d$DURATION | $ROUNDS rounds" \
     "| proxies on CPU $PROXY_CPU, upstream + wrk on CPU $LOAD_CPU | $(nproc) CPUs"

run_wrk() {  # run_wrk PROXY DURATION OUTFILE
  taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency "${HOST_HEADER[@]}" \
    "$SCHEME://127.0.0.1:${PORT[$1]}/" \
    >"$3" 2>&1 &
  local wpid=$!
  PIDS+=("$wpid")
  wait "$wpid" || { echo "bench.sh: wrk against $1 failed:" >&2; cat "$3" >&2; exit 1; }
}

for p in "${PROXIES[@]}"; do run_wrk "$p" "$WARMUP" "$WORK/warmup-$p.txt"; done

printf 'round\tproxy\treq_s\tp99_ms\trequests\tcpu_s\treq_per_cpu_s\terrors\n' >"$WORK/results.tsv"
printf '%-5s %-6s %12s %9s %10s %8s %14s  %s\n' round proxy "req/s" "p99 ms" requests "cpu s" "req/CPU-s" errors
for r in $(seq "$ROUNDS"); do
  for p in "${PROXIES[@]}"; do
    out="$WORK/round$r-$p.txt"
    t0=$(cpu_ticks "${PID[$p]}")
    run_wrk "$p" "$DURATION" "$out"
    t1=$(cpu_ticks "${PID[$p]}")
    read -r rps p99 reqs errs _ < <(wrk_summary "$out")
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
    per_cpu=$(awk -v n="$reqs" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print "nan" }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$p" "$rps" "$p99" "$reqs" "$cpu" "$per_cpu" "$errs" \
      >>"$WORK/results.tsv"
    printf '%-5s %-6s %12s %9s %10s %8s %14s  %s\n' "$r" "$p" "$rps" "$p99" "$reqs" "$cpu" "$per_cpu" "$errs"
    if [[ $errs != 0 ]]; then echo "WARNING: $p had $errs non-2xx responses or socket errors in round $r" >&2; fi
  done
done

echo
python3 - "$WORK/results.tsv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
proxies = list(dict.fromkeys(r["proxy"] for r in rows))
med = {}
for p in proxies:
    mine = [r for r in rows if r["proxy"] == p]
    med[p] = {k: statistics.median(float(r[k]) for r in mine) for k in ("req_s", "p99_ms", "req_per_cpu_s")}
print("| proxy | req/s (median) | p99 ms (median) | req per CPU-second (median) |")
print("| --- | ---: | ---: | ---: |")
for p in proxies:
    m = med[p]
    print("| %s | %.0f | %.2f | %.0f |" % (p, m["req_s"], m["p99_ms"], m["req_per_cpu_s"]))
if "edge" in med and "nginx" in med:
    e, n = med["edge"], med["nginx"]
    ratio = lambda k: e[k] / n[k] if n[k] else float("nan")
    print("| edge/nginx | %.2f | %.2f | %.2f |" % (ratio("req_s"), ratio("p99_ms"), ratio("req_per_cpu_s")))
    print("\n(req/s and req per CPU-second: higher is better; p99: lower is better.)")
EOF
