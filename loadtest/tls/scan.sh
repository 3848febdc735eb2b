#!/usr/bin/env bash
# TLS scan: testssl.sh against edge's default HTTPS site (`localhost` with a certificate from edge's local
# CA) and, as the reference, against nginx 1.22 with its default TLS settings. See README.md.
# Everything listens on 127.0.0.1 on fixed ports in 29000-29099; testssl.sh is told to make no DNS
# lookups and no revocation (OCSP/CRL) fetches, so the scan sends nothing off the machine. Every process
# this script starts is stopped (by PID) when it exits.
#
#   loadtest/tls/scan.sh                 # edge (if its binary accepts the config) and nginx
#   SERVERS=nginx loadtest/tls/scan.sh   # one of them
#
# Reports land in OUT_DIR (default loadtest/tls/reports/): <server>.log (testssl's full text),
# <server>.json (one object per check), <server>-findings.txt (every check that is not OK/INFO),
# <server>-trusted.json (the certificate checks again with the server's root CA trusted).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

EDGE_HTTPS_PORT=${EDGE_HTTPS_PORT:-29050}
EDGE_HTTP_PORT=${EDGE_HTTP_PORT:-29051}
NGINX_PORT=${NGINX_PORT:-29052}
OUT_DIR=${OUT_DIR:-$HERE/reports}
SERVERS=${SERVERS:-}          # "edge nginx" (default: edge when available, and nginx)
TESTSSL_ARGS=${TESTSSL_ARGS:-}  # extra testssl.sh options, e.g. --fast

TESTSSL=""
for t in "${TESTSSL_BIN:-}" testssl testssl.sh; do
  if [[ -n $t ]] && command -v "$t" >/dev/null; then TESTSSL=$(command -v "$t"); break; fi
done
[[ -n $TESTSSL ]] || { echo "scan.sh: testssl.sh is required (apt-get install -y testssl.sh)" >&2; exit 1; }
for tool in openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "scan.sh: $tool is required" >&2; exit 1; }
done

SCRIPT=scan.sh
source "$HERE/../lib.sh"
find_edge
lib_setup edge-tls-scan

render() {
  sed -e "s|@HTTPS_PORT@|$EDGE_HTTPS_PORT|g" -e "s|@HTTP_PORT@|$EDGE_HTTP_PORT|g" -e "s|@PORT@|$NGINX_PORT|g" \
      -e "s|@DIR@|$WORK|g" "$1" >"$2"
}
render "$HERE/scan.edge.Caddyfile" "$WORK/Caddyfile"
render "$HERE/scan.nginx.conf" "$WORK/nginx.conf"

if [[ -z $SERVERS ]]; then
  SERVERS="nginx"
  if [[ -z $EDGE ]]; then
    echo "NOTE: no edge binary (EDGE_BIN unset and $ROOT/.build/release/edge missing): scanning nginx ONLY." >&2
  elif ! "$EDGE" validate --config "$WORK/Caddyfile" >"$WORK/edge-validate.log" 2>&1; then
    echo "NOTE: $EDGE does not accept the HTTPS configuration yet, scanning nginx ONLY. It said:" >&2
    sed 's/^/      /' "$WORK/edge-validate.log" >&2
  else
    SERVERS="edge nginx"
  fi
fi

mkdir -p "$OUT_DIR"
echo "testssl: $TESTSSL ($("$TESTSSL" --version 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | grep -m1 -oE 'testssl(\.sh)? +[0-9][^ ]*' || echo '?'))" \
  "| openssl $(openssl version | awk '{print $2}') | reports in $OUT_DIR"

for server in $SERVERS; do
  case $server in
    edge)
      [[ -n $EDGE ]] || { echo "scan.sh: no edge binary" >&2; exit 1; }
      port=$EDGE_HTTPS_PORT
      port_free "$port" && port_free "$EDGE_HTTP_PORT" \
        || { echo "scan.sh: port $port or $EDGE_HTTP_PORT is in use" >&2; exit 1; }
      "$EDGE" run --config "$WORK/Caddyfile" >"$WORK/edge.log" 2>&1 &
      ;;
    nginx)
      port=$NGINX_PORT
      port_free "$port" || { echo "scan.sh: port $port is in use" >&2; exit 1; }
      (
        cd "$WORK"
        # like a local CA: a root, an intermediate that signs the leaf, the leaf + intermediate served
        openssl ecparam -name prime256v1 -genkey -noout -out root.key
        openssl req -x509 -new -key root.key -sha256 -days 3650 -subj "/CN=Local scan CA - ECC Root" \
          -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
        openssl ecparam -name prime256v1 -genkey -noout -out int.key
        openssl req -new -key int.key -subj "/CN=Local scan CA - ECC Intermediate" -out int.csr
        printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign" >int.ext
        openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -sha256 -days 7 \
          -extfile int.ext -out int.pem
        openssl ecparam -name prime256v1 -genkey -noout -out leaf.ec.key
        openssl pkcs8 -topk8 -nocrypt -in leaf.ec.key -out leaf.key
        openssl req -new -key leaf.key -subj "/" -out leaf.csr
        printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
          "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost" >leaf.ext
        openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -sha256 -days 1 \
          -extfile leaf.ext -out leaf.only.pem
        cat leaf.only.pem int.pem >leaf.pem
      ) >"$WORK/certs.log" 2>&1 || { echo "scan.sh: certificate generation failed:" >&2; cat "$WORK/certs.log" >&2; exit 1; }
      nginx -c "$WORK/nginx.conf" -p "$WORK" -e "$WORK/nginx-error.log" -g 'daemon off;' >"$WORK/nginx.log" 2>&1 &
      ;;
    *) echo "scan.sh: unknown server '$server' (edge, nginx)" >&2; exit 1 ;;
  esac
  pid=$!
  PIDS+=("$pid")
  wait_port "$server" "$pid" "$port" 15
  # the site answers over HTTPS (the certificate may be issued on the first handshake: give it time)
  for i in $(seq 20); do
    curl -sk --max-time 5 "https://localhost:$port/" --resolve "localhost:$port:127.0.0.1" >"$WORK/body" 2>/dev/null && break
    sleep 0.5
  done
  [[ $(cat "$WORK/body" 2>/dev/null) == hi ]] \
    || { echo "scan.sh: $server did not answer 'hi' on https://localhost:$port/" >&2; tail -n 20 "$WORK/$server.log" >&2; exit 1; }

  echo "== $server on localhost:$port: testssl running (a few minutes) ..."
  rm -f "$OUT_DIR/$server.log" "$OUT_DIR/$server.json"
  # --nodns none: no DNS lookups at all (no CAA / rDNS queries leave the machine); revocation checks
  # (--phone-out) stay off. --ip pins the target to 127.0.0.1.
  # shellcheck disable=SC2086
  "$TESTSSL" --quiet --color 0 --warnings batch --nodns none --ip 127.0.0.1 $TESTSSL_ARGS \
    --logfile "$OUT_DIR/$server.log" --jsonfile "$OUT_DIR/$server.json" "localhost:$port" \
    >"$WORK/testssl-$server.out" 2>&1 &
  tpid=$!
  PIDS+=("$tpid")
  wait "$tpid" || true   # testssl's exit status counts findings; the JSON tells
  [[ -s "$OUT_DIR/$server.json" ]] \
    || { echo "scan.sh: testssl produced no report for $server:" >&2; tail -n 30 "$WORK/testssl-$server.out" >&2; exit 1; }
  # The chain again, this time with the server's own root trusted (--add-ca): an untrusted local CA is
  # expected, anything else wrong with the chain is not.
  if [[ $server == edge ]]; then root=$(find "$WORK/storage" -name root.crt | head -n 1); else root=$WORK/root.pem; fi
  trusted="(no root found)"
  if [[ -n $root && -s $root ]]; then
    rm -f "$OUT_DIR/$server-trusted.json"
    "$TESTSSL" --quiet --color 0 --warnings batch --nodns none --ip 127.0.0.1 -S --add-ca "$root" \
      --jsonfile "$OUT_DIR/$server-trusted.json" "localhost:$port" >"$WORK/testssl-$server-trusted.out" 2>&1 || true
    trusted=$(python3 -c 'import json, sys
print(next((c["severity"] + " " + c["finding"] for c in json.load(open(sys.argv[1])) if c["id"] == "cert_chain_of_trust"), "?"))' \
      "$OUT_DIR/$server-trusted.json" 2>/dev/null || echo "?")
  fi
  stop_pid "$pid"
  cp "$WORK/$server.log" "$OUT_DIR/$server-server.log" 2>/dev/null || true

  python3 - "$OUT_DIR/$server.json" "$trusted" <<'EOF' | tee "$OUT_DIR/$server-findings.txt"
import json, sys
rank = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3, "WARN": 4}
checks = json.load(open(sys.argv[1]))
bad = sorted((c for c in checks if c.get("severity") in rank), key=lambda c: rank[c["severity"]])
print("%d checks, %d not OK/INFO:" % (len(checks), len(bad)))
for c in bad:
    print("  %-8s %-34s %s" % (c["severity"], c["id"], c.get("finding", "")))
print("chain of trust with the server's root CA trusted (testssl -S --add-ca): %s" % sys.argv[2])
EOF
done
