# Shared by the benchmark and scan scripts under loadtest/: finding the edge binary, a work directory
# removed on exit, starting and stopping processes by PID, waiting for ports, CPU accounting, and the
# throwaway certificate for bench.test. Source it after setting SCRIPT (the name used in messages).
#
#   SCRIPT=bench.sh; source "$HERE/../lib.sh"; lib_setup edge-tls-bench
#   on_exit() { …copy results out of $WORK… }   # optional, runs before processes are stopped

# EDGE: $EDGE_BIN, else the release build, else empty.
find_edge() {
  EDGE=""
  if [[ -n "${EDGE_BIN:-}" ]]; then
    [[ -x "$EDGE_BIN" ]] || { echo "$SCRIPT: EDGE_BIN=$EDGE_BIN is not executable" >&2; exit 1; }
    EDGE=$EDGE_BIN
  elif [[ -x "$ROOT/.build/release/edge" ]]; then
    EDGE="$ROOT/.build/release/edge"
  fi
}

# WORK (a fresh temp directory) and PIDS (stopped on exit); traps for EXIT, INT and TERM.
lib_setup() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  PIDS=()
  trap lib_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

descendants() {  # PIDs of the children (recursively) of $1, from /proc
  local pid=$1 kid
  for kid in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
    echo "$kid"
    descendants "$kid"
  done
}

stop_pid() {  # SIGTERM, up to 5 s, then SIGKILL to it and its children (e.g. nginx workers)
  local pid=$1 kids i
  kill -0 "$pid" 2>/dev/null || return 0
  kids=$(descendants "$pid")
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kids="$kids $(descendants "$pid")"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  for i in $kids; do kill -KILL "$i" 2>/dev/null || true; done
  wait "$pid" 2>/dev/null || true
}

lib_cleanup() {
  local status=$? pid
  trap - EXIT INT TERM
  if declare -F on_exit >/dev/null; then on_exit || true; fi
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$WORK"
  exit "$status"
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # wait_port NAME PID PORT [SECONDS]: NAME's log is $WORK/NAME.log
  local i limit=$(( ${4:-10} * 10 ))
  for i in $(seq "$limit"); do
    if ! kill -0 "$2" 2>/dev/null; then
      echo "$SCRIPT: $1 (pid $2) exited before listening on 127.0.0.1:$3; its log:" >&2
      tail -n 20 "$WORK/$1.log" >&2 || true
      exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$3") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$SCRIPT: $1 did not listen on 127.0.0.1:$3 within ${4:-10}s" >&2
  tail -n 20 "$WORK/$1.log" >&2 || true
  exit 1
}

# wrk_summary FILE: "req/s p99_ms requests errors bytes_per_request" from one `wrk --latency` output
# (errors: non-2xx/3xx answers plus socket errors).
wrk_summary() {
  awk '
    function ms(v) {  # wrk prints 1.23us / 4.56ms / 1.20s / 1.50m
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    function bytes(v) {  # 12.34MB
      if (v ~ /GB$/) return substr(v, 1, length(v) - 2) * 1073741824
      if (v ~ /MB$/) return substr(v, 1, length(v) - 2) * 1048576
      if (v ~ /KB$/) return substr(v, 1, length(v) - 2) * 1024
      if (v ~ /B$/)  return substr(v, 1, length(v) - 1) + 0
      return v + 0
    }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { reqs = $1; read = bytes($5) }
    /Non-2xx or 3xx responses:/ { errs += $NF }
    /Socket errors:/ { gsub(",", ""); errs += $4 + $6 + $8 + $10 }
    END { printf "%s %.3f %d %d %.0f\n", rps, p99, reqs, errs, reqs ? read / reqs : 0 }' "$1"
}

cpu_ticks() {  # utime+stime (clock ticks) of $1 (all its threads) and its current children
  local pid total=0 t
  for pid in "$1" $(descendants "$1"); do
    # fields after "pid (comm) ": state is 1st, utime 12th, stime 13th
    t=$(sed 's/^.*) //' /proc/"$pid"/stat 2>/dev/null | awk '{print $12 + $13}') || t=0
    total=$((total + ${t:-0}))
  done
  echo "$total"
}

# A P-256 CA and a P-256 leaf for bench.test in $WORK: ca.pem, leaf.pem, leaf.key (PKCS#8).
make_bench_certificate() {
  (
    cd "$WORK"
    openssl ecparam -name prime256v1 -genkey -noout -out ca.key
    openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=edge TLS bench CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
    openssl ecparam -name prime256v1 -genkey -noout -out leaf.ec.key
    openssl pkcs8 -topk8 -nocrypt -in leaf.ec.key -out leaf.key
    openssl req -new -key leaf.key -subj "/CN=bench.test" -out leaf.csr
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=DNS:bench.test" >leaf.ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days 2 \
      -extfile leaf.ext -out leaf.pem
  ) >"$WORK/certs.log" 2>&1 || { echo "$SCRIPT: certificate generation failed:" >&2; cat "$WORK/certs.log" >&2; exit 1; }
}
