#!/usr/bin/env bash
# TLS handshake benchmark: full TLS 1.3 handshakes per second, edge vs nginx, one server core each.
# See README.md. Everything listens on 127.0.0.1 on fixed ports in 29000-29099 (override below); every
# process this script starts is stopped (by PID) when it exits.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}      # seconds per round
WARMUP=${WARMUP:-2}           # seconds per server before round 1
CONNECTIONS=${CONNECTIONS:-64}
CLIENT=${CLIENT:-raw}         # hsbench -m: raw (default) or openssl (client-bound: see README)
SERVER_CPU=${SERVER_CPU:-0}   # the server under test
CLIENT_CPU=${CLIENT_CPU:-1}   # hsbench
EDGE_HTTPS_PORT=${EDGE_HTTPS_PORT:-29043}
EDGE_HTTP_PORT=${EDGE_HTTP_PORT:-29080}
NGINX_PORT=${NGINX_PORT:-29044}
NGINX_TICKETS=${NGINX_TICKETS:-0}            # 1: also run nginx_tickets, nginx issuing 2 TLS 1.3 tickets per
NGINX_TICKETS_PORT=${NGINX_TICKETS_PORT:-29045}  # handshake as edge does (ssl_session_tickets on)
SPEED_SECONDS=${SPEED_SECONDS:-3}
RESULTS_DIR=${RESULTS_DIR:-}  # if set, raw outputs, logs and results.tsv are copied there

for tool in nginx openssl cc curl taskset python3; do
  command -v "$tool" >/dev/null || { echo "bench.sh: $tool is required (make deps-bench)" >&2; exit 1; }
done

SCRIPT=bench.sh
source "$HERE/../lib.sh"
find_edge  # EDGE_BIN, else the release build; without it, nginx only

on_exit() {  # keep the raw outputs when asked
  if [[ -n "$RESULTS_DIR" && -d "$WORK" ]]; then
    mkdir -p "$RESULTS_DIR"
    cp "$WORK"/*.txt "$WORK"/results.tsv "$WORK"/*.log "$RESULTS_DIR"/ 2>/dev/null || true
  fi
}
lib_setup edge-tls-bench

# --- certificates: one P-256 CA and a P-256 leaf for bench.test, shared by both servers ------------------
make_bench_certificate

# --- the client ----------------------------------------------------------------------------------------
cc -O2 -Wall -o "$WORK/hsbench" "$HERE/hsbench.c" -lssl -lcrypto >"$WORK/cc.log" 2>&1 \
  || { echo "bench.sh: compiling hsbench.c failed (libssl-dev installed?):" >&2; cat "$WORK/cc.log" >&2; exit 1; }

# --- which servers ----------------------------------------------------------------------------------------
render() {  # render TEMPLATE OUT
  sed -e "s|@HTTPS_PORT@|$EDGE_HTTPS_PORT|g" -e "s|@HTTP_PORT@|$EDGE_HTTP_PORT|g" -e "s|@PORT@|$NGINX_PORT|g" \
      -e "s|@DIR@|$WORK|g" "$1" >"$2"
}
render "$HERE/edge.Caddyfile" "$WORK/Caddyfile"
render "$HERE/nginx.conf" "$WORK/nginx.conf"
sed -e "s|ssl_session_tickets off;|ssl_session_tickets on;|" -e "s|$WORK/nginx.pid|$WORK/nginx_tickets.pid|" \
    -e "s|127.0.0.1:$NGINX_PORT |127.0.0.1:$NGINX_TICKETS_PORT |" "$WORK/nginx.conf" >"$WORK/nginx_tickets.conf"

SERVERS=(nginx)
[[ $NGINX_TICKETS == 1 ]] && SERVERS+=(nginx_tickets)
if [[ -z "$EDGE" ]]; then
  echo "NOTE: no edge binary (EDGE_BIN unset and $ROOT/.build/release/edge missing): benchmarking nginx ONLY." >&2
elif ! "$EDGE" validate --config "$WORK/Caddyfile" >"$WORK/edge-validate.log" 2>&1; then
  echo "NOTE: $EDGE does not accept the TLS configuration yet, benchmarking nginx ONLY. It said:" >&2
  sed 's/^/      /' "$WORK/edge-validate.log" >&2
else
  SERVERS=(edge "${SERVERS[@]}")
  if [[ $EDGE == */debug/* ]]; then
    echo "WARNING: $EDGE looks like a debug build: its numbers say nothing about edge's speed." >&2
  fi
fi

declare -A PORT PID
PORT[edge]=$EDGE_HTTPS_PORT
PORT[nginx]=$NGINX_PORT
PORT[nginx_tickets]=$NGINX_TICKETS_PORT
for p in "${SERVERS[@]}"; do
  port_free "${PORT[$p]}" || { echo "bench.sh: 127.0.0.1:${PORT[$p]} is already in use" >&2; exit 1; }
done

# --- the bound: the server's public-key operations, one core ------------------------------------------
# (measured before the servers start so that nothing else of ours runs meanwhile)
taskset -c "$SERVER_CPU" openssl speed -seconds "$SPEED_SECONDS" ecdsap256 >"$WORK/speed-ecdsap256.txt" 2>&1
taskset -c "$SERVER_CPU" openssl speed -seconds "$SPEED_SECONDS" ecdhx25519 >"$WORK/speed-ecdhx25519.txt" 2>&1
SIGN_S=$(awk '/ecdsa \(nistp256\)/ { print $(NF-1) }' "$WORK/speed-ecdsap256.txt")
VERIFY_S=$(awk '/ecdsa \(nistp256\)/ { print $NF }' "$WORK/speed-ecdsap256.txt")
X25519_S=$(awk '/ecdh \(X25519\)/ { print $NF }' "$WORK/speed-ecdhx25519.txt")

# --- start the servers, both pinned to the server CPU; only one is loaded at a time ---------------------
for p in "${SERVERS[@]}"; do
  if [[ $p == edge ]]; then
    taskset -c "$SERVER_CPU" "$EDGE" run --config "$WORK/Caddyfile" >"$WORK/edge.log" 2>&1 &
  else
    taskset -c "$SERVER_CPU" nginx -c "$WORK/$p.conf" -p "$WORK" -e "$WORK/$p-error.log" \
      -g 'daemon off;' >"$WORK/$p.log" 2>&1 &
  fi
  PID[$p]=$!
  PIDS+=("${PID[$p]}")
  wait_port "$p" "${PID[$p]}" "${PORT[$p]}"
  # a verified request: the leaf chains to our CA, the name is bench.test, the answer is "ok"
  body=$(curl -sS --max-time 5 --cacert "$WORK/ca.pem" --resolve "bench.test:${PORT[$p]}:127.0.0.1" \
    "https://bench.test:${PORT[$p]}/" 2>"$WORK/curl-$p.log") \
    || { echo "bench.sh: HTTPS GET / on $p failed:" >&2; cat "$WORK/curl-$p.log" >&2; tail -n 20 "$WORK/$p.log" >&2; exit 1; }
  [[ $body == ok ]] || { echo "bench.sh: $p answered '$body', expected 'ok'" >&2; exit 1; }
  # what the handshake negotiates with libssl's own client
  echo | openssl s_client -connect "127.0.0.1:${PORT[$p]}" -servername bench.test -tls1_3 -groups X25519 \
    >"$WORK/s_client-$p.txt" 2>&1 || true
  # both client implementations complete handshakes against it (the raw one is checked against libssl's)
  for m in openssl raw; do
    out=$(taskset -c "$CLIENT_CPU" "$WORK/hsbench" -m "$m" -c 4 -d 1 -n bench.test 127.0.0.1 "${PORT[$p]}")
    if [[ $out != *" errors=0 "* || $out == handshakes=0* ]]; then
      echo "bench.sh: hsbench -m $m against $p: $out" >&2
      "$WORK/hsbench" -v -m "$m" -c 1 -d 1 -n bench.test 127.0.0.1 "${PORT[$p]}" >&2 || true
      exit 1
    fi
  done
done

HZ=$(getconf CLK_TCK)
echo "# edge TLS handshake benchmark: ${SERVERS[*]} | hsbench -m $CLIENT -c $CONNECTIONS, ${DURATION}s" \
     "| $ROUNDS rounds | servers on CPU $SERVER_CPU, client on CPU $CLIENT_CPU | $(nproc) CPUs"
for p in "${SERVERS[@]}"; do
  printf '# %-5s %s\n' "$p:" "$(grep -E '^(New,|Server Temp Key|Peer signature type)' "$WORK/s_client-$p.txt" \
    | paste -sd ';' | sed 's/;/; /g')"
done

run_client() {  # run_client SERVER SECONDS OUTFILE
  taskset -c "$CLIENT_CPU" "$WORK/hsbench" -m "$CLIENT" -c "$CONNECTIONS" -d "$2" -n bench.test \
    127.0.0.1 "${PORT[$1]}" >"$3" 2>&1 &
  local cpid=$!
  PIDS+=("$cpid")
  wait "$cpid" || { echo "bench.sh: hsbench against $1 failed:" >&2; cat "$3" >&2; exit 1; }
}

for p in "${SERVERS[@]}"; do run_client "$p" "$WARMUP" "$WORK/warmup-$p.txt"; done

printf 'round\tserver\ths_s\thandshakes\terrors\tserver_cpu_s\ths_per_cpu_s\tserver_cpu_pct\tclient_cpu_pct\ttickets\n' \
  >"$WORK/results.tsv"
printf '%-5s %-13s %9s %10s %6s %8s %9s %7s %7s %7s\n' round server "hs/s" handshakes errors "cpu s" "hs/CPU-s" \
  "srv CPU" "cli CPU" tickets
for r in $(seq "$ROUNDS"); do
  for p in "${SERVERS[@]}"; do
    out="$WORK/round$r-$p.txt"
    t0=$(cpu_ticks "${PID[$p]}")
    run_client "$p" "$DURATION" "$out"
    t1=$(cpu_ticks "${PID[$p]}")
    read -r hs secs rate errs ccpu tix < <(sed -E 's/[a-z_]+=//g' "$out")
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
    per_cpu=$(awk -v n="$hs" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.0f", n / c; else print "nan" }')
    spct=$(awk -v c="$cpu" -v s="$secs" 'BEGIN { printf "%.0f%%", 100 * c / s }')
    cpct=$(awk -v c="$ccpu" -v s="$secs" 'BEGIN { printf "%.0f%%", 100 * c / s }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$p" "$rate" "$hs" "$errs" "$cpu" "$per_cpu" \
      "${spct%\%}" "${cpct%\%}" "$tix" >>"$WORK/results.tsv"
    printf '%-5s %-13s %9s %10s %6s %8s %9s %7s %7s %7s\n' "$r" "$p" "$rate" "$hs" "$errs" "$cpu" "$per_cpu" \
      "$spct" "$cpct" "$tix"
    if [[ $errs != 0 ]]; then echo "WARNING: $p had $errs failed connections in round $r" >&2; fi
  done
done

echo
python3 - "$WORK/results.tsv" "$SIGN_S" "$VERIFY_S" "$X25519_S" "$SPEED_SECONDS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
sign, verify, x25519, secs = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
servers = list(dict.fromkeys(r["server"] for r in rows))
med = {}
for s in servers:
    mine = [r for r in rows if r["server"] == s]
    med[s] = {k: statistics.median(float(r[k]) for r in mine)
              for k in ("hs_s", "hs_per_cpu_s", "server_cpu_pct", "client_cpu_pct", "tickets")}
print("| server | handshakes/s (median) | handshakes per server CPU-second (median) | server CPU | client CPU"
      " | tickets per handshake |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for s in servers:
    m = med[s]
    print("| %s | %.0f | %.0f | %.0f%% | %.0f%% | %.1f |" % (s, m["hs_s"], m["hs_per_cpu_s"], m["server_cpu_pct"],
                                                             m["client_cpu_pct"], m["tickets"]))
for ref in ("nginx", "nginx_tickets"):
    if "edge" in med and ref in med:
        e, n = med["edge"], med[ref]
        r = lambda k: e[k] / n[k] if n[k] else float("nan")
        print("| edge/%s (ratio of medians) | %.2f | %.2f | | | |" % (ref, r("hs_s"), r("hs_per_cpu_s")))
        # the same ratio round by round (the two ran seconds apart), then its median: drift between
        # rounds cancels out
        by = {(x["round"], x["server"]): x for x in rows}
        pr = lambda k: statistics.median(float(by[(rd, "edge")][k]) / float(by[(rd, ref)][k])
                                         for rd in dict.fromkeys(x["round"] for x in rows))
        print("| edge/%s (median of per-round ratios) | %.2f | %.2f | | | |" % (ref, pr("hs_s"), pr("hs_per_cpu_s")))
floor = 1.0 / (1.0 / sign + 1.0 / x25519)
print()
print("Bound, one core (openssl speed -seconds %s): ECDSA P-256 sign %.0f/s (verify %.0f/s), X25519 derive %.0f/s;"
      % (secs, sign, verify, x25519))
print("one sign + one X25519 derive per handshake caps a core at %.0f handshakes/s before any TLS, TCP or HTTP work"
      " (the server's X25519 key generation is not counted)." % floor)
for s in servers:
    print("%s reaches %.0f%% of that per CPU-second." % (s, 100 * med[s]["hs_per_cpu_s"] / floor))
EOF
