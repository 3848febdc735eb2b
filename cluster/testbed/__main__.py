"""python3 -m testbed up [-n N] [--delay-ms MS] [--join] [--names a.test,b.test]
python3 -m testbed cleanup

`up` builds the topology (and with --join starts one `edge join` node per region, seeded with a
configuration for --names), prints how to reach everything, and tears it all down on Ctrl-C or SIGTERM.
`cleanup` removes what a killed run left behind (only our namespaces, veths, bridge and the processes
this testbed recorded starting)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from . import Testbed
from .topology import SetupError, cleanup


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python3 -m testbed", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the topology and wait for Ctrl-C")
    up.add_argument("-n", "--nodes", type=int, default=3)
    up.add_argument("--delay-ms", type=float, default=None, help="one-way delay region <-> Redis (25)")
    up.add_argument("--join", action="store_true", help="also start `edge join` in every region")
    up.add_argument("--names", default="a.test", help="sites of the seed configuration (with --join)")
    up.add_argument("--cluster", default="manual")
    sub.add_parser("cleanup", help="remove leftovers of a killed run")
    args = p.parse_args(argv)

    if os.geteuid() != 0:
        print("error: the cluster testbed must run as root (bridge, network namespaces, ports 80/443 in them)",
              file=sys.stderr)
        return 1
    if args.command == "cleanup":
        try:
            removed = cleanup()
        except SetupError as e:
            print("error: %s" % e, file=sys.stderr)
            return 1
        print("\n".join(removed) or "nothing to clean up")
        return 0

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        tb = Testbed(args.nodes, delay_ms=args.delay_ms)
    except SetupError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    cluster = None
    try:
        pebble = tb.new_pebble()
        print(tb.topology.describe())
        print("redis        127.0.0.1:%d (direct, no delay): redis-cli -p %d" % (tb.redis.port, tb.redis.port))
        for relay in tb.relays:
            print("relay        %s -> redis, %.0f ms each way (%s); control: echo 'blackhole hang' | nc 127.0.0.1 %d"
                  % (relay.url, relay.delay_ms, relay.region.name, relay.control_port))
        print("pebble       %s (acme_ca_root %s; issued certs verify under %s)" % (
            pebble.directory, pebble.ca_root, pebble.issuing_root))
        print("DNS          %s:%d; add a name: curl -d '{\"host\":\"x.test.\",\"addresses\":[%s]}' "
              "http://127.0.0.1:%d/add-a" % (tb.dns.address, tb.dns.dns_port,
                                             ",".join('"%s"' % a for a in tb.addresses), tb.dns.management))
        print("in a region  ip netns exec %s <command>" % tb.regions[0].ns)
        if args.join:
            from .cluster import Cluster
            cluster = Cluster(tb, pebble, args.cluster, tb.workdir / args.cluster)
            names = [n for n in args.names.split(",") if n]
            cluster.start(names)
            print("cluster      %r, secret %s; nodes: %s" % (args.cluster, cluster.secret.path, ", ".join(
                "%s %s (admin http://%s:2019, log %s)" % (n.id, n.address, n.address, n.proc.stderr_path)
                for n in cluster.nodes)))
            print("status       %s cluster status --redis redis://127.0.0.1:%d --cluster %s --secret-file %s" % (
                "$EDGE_BIN", tb.redis.port, args.cluster, cluster.secret.path))
            if names:
                print("try          curl --cacert %s --resolve %s:443:%s https://%s/" % (
                    pebble.issuing_root, names[0], tb.addresses[0], names[0]))
        print("work dir     %s\nCtrl-C tears everything down." % tb.workdir)
        sys.stdout.flush()
        while not stop.wait(1):
            pass
    finally:
        print("\ntearing down", file=sys.stderr)
        try:
            if cluster:
                cluster.close()
        finally:
            tb.close()
            tb.remove_workdir()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
