#!/usr/bin/env bash
# Static files benchmark: edge vs nginx vs Caddy serving the same files in seed 003's shape
# (`handle_path /static/* { root * DIR; file_server }`, the rest proxied). See README.md. Everything
# listens on 127.0.0.1 on free ports picked at runtime; every process this script starts is stopped (by
# PID) when it exits.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-2s}
PROXY_CPU=${PROXY_CPU:-0}   # the server under test
LOAD_CPU=${LOAD_CPU:-1}     # wrk (and the idle upstream)
SCENARIOS=${SCENARIOS:-"css js 304 gzip"}
RESULTS_DIR=${RESULTS_DIR:-}  # if set, raw wrk outputs, logs and results.tsv are copied there

for tool in nginx wrk taskset python3; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required (make deps-bench)" >&2; exit 1; }
done

SCRIPT=bench.sh
source "$HERE/../lib.sh"

# --- the servers: edge (EDGE_BIN or the release build), nginx, Caddy (CADDY_BIN or `caddy` on PATH) ------
find_edge
PROXIES=()
if [[ -n "$EDGE" ]]; then
  PROXIES+=(edge)
  if [[ $EDGE == */debug/* ]]; then
    echo "WARNING: $EDGE looks like a debug build: its numbers say nothing about edge's speed." >&2
  fi
else
  echo "NOTE: no edge binary (EDGE_BIN unset and $ROOT/.build/release/edge missing): edge is NOT measured." >&2
  echo "      Build edge (make build) or set EDGE_BIN to compare." >&2
fi
PROXIES+=(nginx)
CADDY=${CADDY_BIN:-$(command -v caddy || true)}
if [[ -n "$CADDY" ]]; then
  [[ -x "$CADDY" ]] || { echo "bench.sh: CADDY_BIN=$CADDY is not executable" >&2; exit 1; }
  PROXIES+=(caddy)
else
  echo "NOTE: Caddy is not installed (Debian package 'caddy'; make deps-bench installs it, or set CADDY_BIN):" \
    "measuring ${PROXIES[*]} ONLY." >&2
fi

on_exit() {  # keep the raw outputs when asked
  if [[ -n "$RESULTS_DIR" && -d "$WORK" ]]; then
    mkdir -p "$RESULTS_DIR"
    cp "$WORK"/*.txt "$WORK"/results.tsv "$WORK"/*.log "$RESULTS_DIR"/ 2>/dev/null || true
  fi
}
lib_setup edge-files-bench

render() {  # render TEMPLATE OUT PORT GZIP_PORT UPSTREAM
  sed -e "s|@PORT@|$3|g" -e "s|@GZIP_PORT@|$4|g" -e "s|@UPSTREAM@|$5|g" -e "s|@DIR@|$WORK|g" "$1" >"$2"
}

# --- the files: a 1 KiB stylesheet and a 100 KiB script, text that compresses like real CSS and JS -------
mkdir -p "$WORK/static"
chmod 711 "$WORK"  # nginx's worker (nobody when started as root) must reach the files
python3 - "$WORK/static" <<'EOF'
import sys
def fill(unit, size):
    out, i = "", 0
    while len(out) < size:
        out += unit(i)
        i += 1
    return out[:size - 1] + "\n"
css = fill(lambda i: ".c%d { margin: %dpx; color: #%06x; }\n" % (i, i % 17, (i * 2654435761) % 0xFFFFFF), 1024)
js = fill(lambda i: "function f%d(a, b) { return a * %d + b.length - %d; }\n" % (i, i % 97, (i * 7919) % 1000), 100 * 1024)
open(sys.argv[1] + "/app.css", "w").write(css)
open(sys.argv[1] + "/app.js", "w").write(js)
EOF

# --- the upstream for "everything else" (idle during the runs; checked once) and the servers ------------
UP_PORT=$(free_port)
sed -e "s|@PORT@|$UP_PORT|g" -e "s|@DIR@|$WORK|g" "$HERE/../core/upstream.nginx.conf" >"$WORK/upstream.conf"
taskset -c "$LOAD_CPU" nginx -c "$WORK/upstream.conf" -p "$WORK" -e "$WORK/upstream.log" -g 'daemon off;' \
  >"$WORK/upstream.log" 2>&1 &
UP_PID=$!
PIDS+=("$UP_PID")
wait_port upstream "$UP_PID" "$UP_PORT"

declare -A PORT GZPORT PID ETAG GZIP_OK
for p in "${PROXIES[@]}"; do
  PORT[$p]=$(free_port)
  GZPORT[$p]=$(free_port)
  case $p in
    edge)
      render "$HERE/edge.Caddyfile" "$WORK/edge.Caddyfile" "${PORT[$p]}" "${GZPORT[$p]}" "127.0.0.1:$UP_PORT"
      taskset -c "$PROXY_CPU" "$EDGE" run --config "$WORK/edge.Caddyfile" >"$WORK/edge.log" 2>&1 &
      ;;
    nginx)
      render "$HERE/nginx.conf" "$WORK/nginx.conf" "${PORT[$p]}" "${GZPORT[$p]}" "127.0.0.1:$UP_PORT"
      taskset -c "$PROXY_CPU" nginx -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/nginx.log" -g 'daemon off;' \
        >"$WORK/nginx.log" 2>&1 &
      ;;
    caddy)
      render "$HERE/caddy.Caddyfile" "$WORK/caddy.Caddyfile" "${PORT[$p]}" "${GZPORT[$p]}" "127.0.0.1:$UP_PORT"
      mkdir -p "$WORK/caddy-home"
      HOME="$WORK/caddy-home" XDG_DATA_HOME="$WORK/caddy-home" XDG_CONFIG_HOME="$WORK/caddy-home" GOMAXPROCS=1 \
        taskset -c "$PROXY_CPU" "$CADDY" run --config "$WORK/caddy.Caddyfile" --adapter caddyfile \
        >"$WORK/caddy.log" 2>&1 &
      ;;
  esac
  PID[$p]=$!
  PIDS+=("${PID[$p]}")
  wait_port "$p" "${PID[$p]}" "${PORT[$p]}"
  wait_port "$p" "${PID[$p]}" "${GZPORT[$p]}"

  # The right bytes and statuses before any measuring: both files, a 304 for the server's own ETag, the
  # proxied rest, and (gzip) a body that decompresses to the file. Prints the ETag and yes/no for gzip.
  check=$(python3 - "${PORT[$p]}" "${GZPORT[$p]}" "$WORK/static" <<'EOF'
import gzip, http.client, sys
port, gzport, static = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def get(port, path, **headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    return r.status, r.headers, r.read()
def fail(msg):
    sys.exit(msg)
for name, ctype in (("app.css", "text/css"), ("app.js", "javascript")):
    want = open(static + "/" + name, "rb").read()
    status, headers, body = get(port, "/static/" + name)
    if status != 200 or body != want:
        fail("GET /static/%s: %d, %d bytes (expected 200, the file's %d bytes)" % (name, status, len(body), len(want)))
    if ctype not in (headers.get("Content-Type") or ""):
        fail("GET /static/%s: Content-Type %r (expected %s)" % (name, headers.get("Content-Type"), ctype))
status, headers, body = get(port, "/static/app.css")
etag = headers.get("ETag")
if not etag:
    fail("GET /static/app.css: no ETag")
status, _, body = get(port, "/static/app.css", **{"If-None-Match": etag})
if status != 304 or body:
    fail("GET /static/app.css with If-None-Match %s: %d with %d bytes (expected 304, empty)" % (etag, status, len(body)))
status, _, body = get(port, "/")
if status != 200 or body != b"ok":
    fail("GET / (proxied): %d %r (expected 200 'ok' from the upstream)" % (status, body[:40]))
status, headers, body = get(gzport, "/static/app.css", **{"Accept-Encoding": "gzip"})
want = open(static + "/app.css", "rb").read()
if status != 200:
    fail("GET /static/app.css (gzip site): %d" % status)
if headers.get("Content-Encoding") == "gzip":
    if gzip.decompress(body) != want:
        fail("GET /static/app.css (gzip site): the gzip body does not decompress to the file")
    gz = "yes"
elif body == want:
    gz = "no"  # sent as it is: the caller reports and skips the gzip scenario for this server
else:
    fail("GET /static/app.css (gzip site): neither the file nor gzip of it (Content-Encoding %r)" % headers.get("Content-Encoding"))
print(etag, gz)
EOF
  ) || { echo "bench.sh: $p does not serve the files right (above); its log:" >&2; tail -n 20 "$WORK/$p.log" >&2; exit 1; }
  read -r ETAG[$p] GZIP_OK[$p] <<<"$check"
  if [[ ${GZIP_OK[$p]} != yes && " $SCENARIOS " == *" gzip "* ]]; then
    echo "WARNING: $p sent /static/app.css UNCOMPRESSED to Accept-Encoding: gzip despite its encode/gzip config:" \
      "scenario gzip is NOT measured for $p." >&2
  fi
done

HZ=$(getconf CLK_TCK)
echo "# edge static files benchmark: ${PROXIES[*]} | scenarios $SCENARIOS | wrk -t$THREADS -c$CONNECTIONS -d$DURATION" \
     "| $ROUNDS rounds | servers on CPU $PROXY_CPU (one worker each), wrk on CPU $LOAD_CPU | $(nproc) CPUs"
for p in "${PROXIES[@]}"; do echo "#   $p: ETag ${ETAG[$p]}, gzip ${GZIP_OK[$p]}"; done

run_wrk() {  # run_wrk PROXY SCENARIO DURATION OUTFILE
  local port=${PORT[$1]} path=/static/app.css headers=()
  case $2 in
    css) ;;
    js) path=/static/app.js ;;
    304) headers=(-H "If-None-Match: ${ETAG[$1]}") ;;
    gzip) port=${GZPORT[$1]}; headers=(-H "Accept-Encoding: gzip") ;;
    *) echo "bench.sh: unknown scenario '$2' (css, js, 304, gzip)" >&2; exit 1 ;;
  esac
  taskset -c "$LOAD_CPU" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --latency "${headers[@]}" \
    "http://127.0.0.1:$port$path" >"$4" 2>&1 &
  local wpid=$!
  PIDS+=("$wpid")
  wait "$wpid" || { echo "bench.sh: wrk against $1 ($2) failed:" >&2; cat "$4" >&2; exit 1; }
}

measured() {  # measured PROXY SCENARIO: whether this pair is run
  [[ $2 != gzip || ${GZIP_OK[$1]} == yes ]]
}

for s in $SCENARIOS; do
  for p in "${PROXIES[@]}"; do
    if measured "$p" "$s"; then run_wrk "$p" "$s" "$WARMUP" "$WORK/warmup-$s-$p.txt"; fi
  done
done

printf 'round\tscenario\tproxy\treq_s\tp99_ms\trequests\tbytes_per_req\tcpu_s\treq_per_cpu_s\terrors\n' >"$WORK/results.tsv"
printf '%-5s %-8s %-6s %10s %8s %9s %7s %7s %10s  %s\n' round scenario proxy "req/s" "p99 ms" requests "B/req" \
  "cpu s" "req/CPU-s" errors
n=${#PROXIES[@]}
for r in $(seq "$ROUNDS"); do
  for s in $SCENARIOS; do
    for i in $(seq 0 $((n - 1))); do
      p=${PROXIES[$(((i + r - 1) % n))]}  # the order rotates each round, so no server always goes first
      measured "$p" "$s" || continue
      out="$WORK/round$r-$s-$p.txt"
      t0=$(cpu_ticks "${PID[$p]}")
      run_wrk "$p" "$s" "$DURATION" "$out"
      t1=$(cpu_ticks "${PID[$p]}")
      read -r rps p99 reqs errs bpr < <(wrk_summary "$out")
      cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
      per_cpu=$(awk -v n="$reqs" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print "nan" }')
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$s" "$p" "$rps" "$p99" "$reqs" "$bpr" "$cpu" \
        "$per_cpu" "$errs" >>"$WORK/results.tsv"
      printf '%-5s %-8s %-6s %10s %8s %9s %7s %7s %10s  %s\n' "$r" "$s" "$p" "$rps" "$p99" "$reqs" "$bpr" "$cpu" \
        "$per_cpu" "$errs"
      if [[ $errs != 0 ]]; then echo "WARNING: $p had $errs non-2xx/3xx responses or socket errors in round $r ($s)" >&2; fi
    done
  done
done

echo
python3 - "$WORK/results.tsv" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
proxies = [p for p in ("edge", "nginx", "caddy") if any(r["proxy"] == p for r in rows)]
others = [p for p in ("nginx", "caddy") if p in proxies] if "edge" in proxies else []
label = {"css": "1 KiB CSS", "js": "100 KiB JS", "304": "304 (If-None-Match)", "gzip": "1 KiB CSS, gzip"}
metrics = (("req_s", "req/s", "%.0f"), ("p99_ms", "p99 ms", "%.2f"), ("req_per_cpu_s", "req/CPU-s", "%.0f"),
           ("bytes_per_req", "bytes/resp", "%.0f"))
print("| scenario | median of | " + " | ".join(proxies) + "".join(" | edge/" + o for o in others) + " |")
print("| --- | --- |" + " ---: |" * (len(proxies) + len(others)))
for s in scenarios:
    for key, name, fmt in metrics:
        med = {}
        for p in proxies:
            values = [float(r[key]) for r in rows if r["scenario"] == s and r["proxy"] == p]
            med[p] = statistics.median(values) if values else None
        cells = [fmt % med[p] if med[p] is not None else "n/a" for p in proxies]
        ratios = []
        for o in others:
            ok = med["edge"] is not None and med[o] and key != "bytes_per_req"
            ratios.append("%.2f" % (med["edge"] / med[o]) if ok else "")
        print("| %s | %s | %s |" % (label.get(s, s), name, " | ".join(cells + ratios)))
print("\n(req/s and req/CPU-s: higher is better; p99: lower is better; bytes/resp: wrk's bytes read per"
      " response, headers included, a check that like is compared with like.)")
EOF
