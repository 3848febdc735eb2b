#!/usr/bin/env bash
# The cost of observing: the same edge as a keep-alive reverse proxy in front of one nginx upstream, with
# nothing observed (bare), with request metrics (metrics, the default), and with metrics and a JSON
# access log to a file (observed); rounds interleaved. Reports medians and ratios to bare (goal: observed
# req/s >= 0.97 of bare). VARIANTS="bare observed" runs a subset. Everything on 127.0.0.1, free
# ports; every process started here is stopped by PID on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-7}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
WARMUP=${WARMUP:-2s}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}

for tool in nginx wrk taskset python3 curl; do
  command -v "$tool" >/dev/null || { echo "observe/bench.sh: $tool is required (make deps-bench)" >&2; exit 1; }
done
SCRIPT=observe/bench.sh
source "$HERE/../lib.sh"
find_edge
[[ -n "$EDGE" ]] || { echo "observe/bench.sh: no edge binary (make build or EDGE_BIN)" >&2; exit 1; }
lib_setup edge-observe

UP_PORT=$(free_port)
sed -e "s|@PORT@|$UP_PORT|g" -e "s|@DIR@|$WORK|g" "$HERE/../core/upstream.nginx.conf" >"$WORK/upstream.conf"
taskset -c "$LOAD_CPU" nginx -c "$WORK/upstream.conf" -p "$WORK" -e "$WORK/upstream.log" -g 'daemon off;' \
  >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)
wait_port upstream "$!" "$UP_PORT"

ADMIN=$(free_port)
declare -A PORT PID
read -r -a VARIANTS <<<"${VARIANTS:-bare metrics observed}"
for v in "${VARIANTS[@]}"; do
  PORT[$v]=$(free_port)
  sed -e "s|@PORT@|${PORT[$v]}|g" -e "s|@UPSTREAM@|127.0.0.1:$UP_PORT|g" -e "s|@DIR@|$WORK|g" -e "s|@ADMIN@|$ADMIN|g" \
    "$HERE/$v.Caddyfile" >"$WORK/$v.Caddyfile"
  taskset -c "$PROXY_CPU" "$EDGE" run --config "$WORK/$v.Caddyfile" >"$WORK/$v.log" 2>&1 &
  PID[$v]=$!
  PIDS+=("${PID[$v]}")
  wait_port "$v" "${PID[$v]}" "${PORT[$v]}"
  [[ $(curl -s "http://127.0.0.1:${PORT[$v]}/") == ok ]] || { echo "observe/bench.sh: $v does not proxy" >&2; exit 1; }
done

echo "# edge observability cost: bare vs observed | wrk -t1 -c$CONNECTIONS -d$DURATION | $ROUNDS rounds" \
     "| edge on CPU $PROXY_CPU, upstream + wrk on CPU $LOAD_CPU"
run_wrk() {  # run_wrk VARIANT DURATION OUTFILE
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"$2" --latency "http://127.0.0.1:${PORT[$1]}/" >"$3" 2>&1 &
  local wpid=$!
  PIDS+=("$wpid")
  wait "$wpid" || { echo "observe/bench.sh: wrk against $1 failed" >&2; cat "$3" >&2; exit 1; }
}
for v in "${VARIANTS[@]}"; do run_wrk "$v" "$WARMUP" "$WORK/warmup-$v.txt"; done

HZ=$(getconf CLK_TCK)
printf 'round\tvariant\treq_s\tp99_ms\trequests\treq_per_cpu_s\n' >"$WORK/results.tsv"
for r in $(seq "$ROUNDS"); do
  # Rotate which variant goes first, so drift (heat, other load) does not favour one of them.
  order=("${VARIANTS[@]:$(( r % ${#VARIANTS[@]} ))}" "${VARIANTS[@]:0:$(( r % ${#VARIANTS[@]} ))}")
  for v in "${order[@]}"; do
    out="$WORK/round$r-$v.txt"
    t0=$(cpu_ticks "${PID[$v]}")
    run_wrk "$v" "$DURATION" "$out"
    t1=$(cpu_ticks "${PID[$v]}")
    read -r rps p99 reqs errs _ < <(wrk_summary "$out")
    if [[ $errs != 0 ]]; then echo "WARNING: $v had $errs non-2xx responses or socket errors in round $r" >&2; fi
    per_cpu=$(awk -v n="$reqs" -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { c = (b - a) / hz; if (c > 0) printf "%.0f", n / c; else print "nan" }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$v" "$rps" "$p99" "$reqs" "$per_cpu" >>"$WORK/results.tsv"
    printf '%-5s %-9s %10s req/s  p99 %7s ms  %8s req/CPU-s\n' "$r" "$v" "$rps" "$p99" "$per_cpu"
  done
done

lines=$( (cat "$WORK"/access*.log 2>/dev/null || true) | wc -l)
series=$( (curl -s "http://127.0.0.1:$ADMIN/metrics" || true) | awk '/^edge_http_requests_total/ { n += $NF } END { printf "%d", n }')
echo
echo "access log lines: $lines; edge_http_requests_total: $series"
python3 - "$WORK/results.tsv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
variants = list(dict.fromkeys(r["variant"] for r in rows))
keys = ("req_s", "p99_ms", "req_per_cpu_s")
med = {v: {k: statistics.median(float(r[k]) for r in rows if r["variant"] == v) for k in keys} for v in variants}
print("| variant | req/s (median) | p99 ms (median) | req per CPU-second (median) | req/s vs bare | req/CPU-s vs bare |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for v, m in med.items():
    ratio = lambda k: m[k] / med["bare"][k] if "bare" in med else float("nan")
    print("| %s | %.0f | %.2f | %.0f | %.3f | %.3f |" % (v, m["req_s"], m["p99_ms"], m["req_per_cpu_s"], ratio("req_s"),
                                                       ratio("req_per_cpu_s")))
print("\n(req per CPU-second counts the edge process's own CPU time: steadier than req/s on a busy machine.)")
PY
