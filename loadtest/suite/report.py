"""The suite's Markdown report: medians per proxy with ratios to nginx, and the plots beside it."""
import os
import statistics

ORDER = ["direct", "edge", "nginx", "haproxy", "caddy"]


def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def total(rows, key):
    return sum(r.get(key) or 0 for r in rows)


def fmt(v, digits=0):
    if v is None:
        return "–"
    if isinstance(v, float) and digits:
        return "%.*f" % (digits, v)
    return "{:,}".format(int(round(v)))


def ratio(v, base):
    """v relative to nginx's value (above 1 is better for throughput, below 1 for latency, memory, cost)."""
    if v is None or not base:
        return "–"
    return "%.2f" % (v / base)


def by_proxy(rows, scenario):
    out = {}
    for r in rows:
        if r["scenario"] == scenario:
            out.setdefault(r["proxy"], []).append(r)
    return [(p, out[p]) for p in ORDER if p in out]


def table(head, lines):
    text = "| " + " | ".join(head) + " |\n| " + " | ".join("---" if i == 0 else "---:" for i in range(len(head)))
    text += " |\n"
    for line in lines:
        text += "| " + " | ".join(line) + " |\n"
    return text


def announce_table(rows):
    groups = by_proxy(rows, "announce")
    if not groups:
        return ""
    nginx = dict(groups).get("nginx", [])
    base_rps, base_cpu, base_p99 = med(nginx, "req_s"), med(nginx, "req_per_cpu_s"), med(nginx, "p99_ms")
    lines = []
    for p, rs in groups:
        lines.append([p, fmt(med(rs, "req_s")), ratio(med(rs, "req_s"), base_rps), fmt(med(rs, "p50_ms"), 2),
                      fmt(med(rs, "p99_ms"), 2), ratio(med(rs, "p99_ms"), base_p99),
                      fmt(med(rs, "req_per_cpu_s")), ratio(med(rs, "req_per_cpu_s"), base_cpu),
                      fmt(total(rs, "failed")), fmt(total(rs, "retried"))])
    return "### Steady announces\n\n" + table(
        ["target", "req/s", "× nginx", "p50 ms", "p99 ms", "p99 × nginx", "req per proxy CPU-s", "× nginx",
         "failed", "retried"], lines)


def idle_table(rows):
    groups = by_proxy(rows, "ws-idle")
    if not groups:
        return ""
    nginx = dict(groups).get("nginx", [])
    base = med(nginx, "kib_per_conn")
    lines = []
    for p, rs in groups:
        r = rs[0]
        lines.append([p, fmt(r["connections"]), fmt(r["failed"]), fmt(r["ramp_s"], 2), fmt(r["handshake_p99_ms"], 1),
                      fmt(r["rss_held_kib"] / 1024, 1) if r["rss_held_kib"] else "–", fmt(r["kib_per_conn"], 1),
                      ratio(r["kib_per_conn"], base), fmt(r["fanout_p50_ms"], 1), fmt(r["fanout_p99_ms"], 1)])
    return "### WebSocket idle hold (subscribers, one 64-byte broadcast a second)\n\n" + table(
        ["target", "connected", "failed", "ramp s", "handshake p99 ms", "RSS held MiB", "KiB per connection",
         "× nginx", "fan-out p50 ms", "fan-out p99 ms"], lines)


def chatter_table(rows):
    groups = by_proxy(rows, "ws-chatter")
    if not groups:
        return ""
    nginx = dict(groups).get("nginx", [])
    base_cpu, base_p99 = med(nginx, "cpu_us_per_msg"), med(nginx, "p99_ms")
    lines = []
    for p, rs in groups:
        lines.append([p, fmt(med(rs, "msgs_s")), fmt(med(rs, "p50_ms"), 3), fmt(med(rs, "p99_ms"), 3),
                      ratio(med(rs, "p99_ms"), base_p99), fmt(med(rs, "p999_ms"), 2),
                      fmt(med(rs, "cpu_us_per_msg"), 1), ratio(med(rs, "cpu_us_per_msg"), base_cpu),
                      fmt(total(rs, "failed"))])
    return "### WebSocket chatter (echo)\n\n" + table(
        ["target", "messages/s", "echo p50 ms", "echo p99 ms", "p99 × nginx", "p99.9 ms",
         "proxy CPU µs per echo", "× nginx", "lost"], lines)


def tls_table(rows):
    groups = by_proxy(rows, "tls-storm")
    if not groups:
        return ""
    nginx = dict(groups).get("nginx", [])
    base_rate, base_cpu = med(nginx, "hs_s"), med(nginx, "hs_per_cpu_s")
    lines = []
    for p, rs in groups:
        lines.append([p, fmt(med(rs, "hs_s")), ratio(med(rs, "hs_s"), base_rate), fmt(med(rs, "hs_per_cpu_s")),
                      ratio(med(rs, "hs_per_cpu_s"), base_cpu), fmt(med(rs, "tickets"), 1), fmt(total(rs, "failed"))])
    return "### TLS handshake storm (full TLS 1.3 handshakes, X25519, P-256 certificate, one GET each)\n\n" + table(
        ["proxy", "handshakes/s", "× nginx", "per proxy CPU-s", "× nginx", "tickets sent per handshake",
         "errors"], lines)


def h2_table(rows):
    text = ""
    for kind, title in (("h2-local", "a local response"), ("h2-proxy", "a keep-alive HTTP/1.1 origin behind /api/")):
        groups = by_proxy(rows, kind)
        if not groups:
            continue
        nginx = dict(groups).get("nginx", [])
        base_rate, base_cpu = med(nginx, "req_s"), med(nginx, "req_per_cpu_s")
        lines = []
        for p, rs in groups:
            lines.append([p, fmt(med(rs, "req_s")), ratio(med(rs, "req_s"), base_rate), fmt(med(rs, "req_per_cpu_s")),
                          ratio(med(rs, "req_per_cpu_s"), base_cpu), fmt(med(rs, "mean_ms"), 2),
                          fmt(med(rs, "max_ms"), 1), fmt(total(rs, "failed"))])
        text += "### HTTP/2 over TLS (h2load), %s\n\n" % title + table(
            ["proxy", "requests/s", "× nginx", "per proxy CPU-s", "× nginx", "mean ms", "max ms", "failed"],
            lines) + "\n"
    return text


def reload_table(rows):
    groups = by_proxy(rows, "reload")
    if not groups:
        return ""
    lines = []
    for p, rs in groups:
        r = rs[0]
        lines.append([p, fmt(r["reloads"]), fmt(r["ok"]), fmt(r["failed"]), fmt(r["retried"]), fmt(r["idle_closes"]),
                      fmt(r["connect_errors"]), fmt(r["ws_dropped"]), fmt(r["ws_lost"]), fmt(r["p99_ms"], 2),
                      fmt(r["max_ms"], 1)])
    return "### Reloads under load (announces + 200 chatting WebSockets)\n\n" + table(
        ["proxy", "reloads", "announces ok", "failed", "retried", "idle keep-alive closes", "connect errors",
         "WebSockets dropped", "echoes lost", "p99 ms", "max ms"], lines)


def failover_table(rows):
    groups = by_proxy(rows, "failover")
    if not groups:
        return ""
    lines = []
    for p, rs in groups:
        r = rs[0]
        lines.append([p, fmt(r["ok"]), fmt(r["failed"]), fmt(r["retried"]), fmt(r["req_s"]), fmt(r["p99_ms"], 2),
                      fmt(r["max_ms"], 1),
                      "%.1f s" % r["last_failure_s"] if r["last_failure_s"] is not None else "none"])
    return "### Failover (one of two trackers killed under load)\n\n" + table(
        ["proxy", "announces ok", "failed", "retried", "req/s", "p99 ms", "max ms", "last failure after the kill"],
        lines)


def read_samples(path, kind):
    try:
        with open(path) as f:
            return sorted(int(line.split()[1]) / 1000.0 for line in f if line.startswith(kind + " "))
    except OSError:
        return []


def plots(rows, samples_dir, out_dir, meta):
    """PNG plots; returns [(title, file name)]. Without matplotlib, none (and the report says so)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    os.makedirs(out_dir, exist_ok=True)
    made = []
    names = [p for p in ORDER if p == "direct" or p in meta["names"]]

    def cdf(title, fname, kind, prefix):
        fig, ax = plt.subplots(figsize=(7, 4.2))
        drew = False
        for p in names:
            v = read_samples(os.path.join(samples_dir, "%s-%s.txt" % (prefix, p)), kind)
            if not v:
                continue
            n = len(v)
            step = max(1, n // 2000)
            xs = v[::step] + [v[-1]]
            ys = [i / n for i in range(0, n, step)] + [1.0]
            ax.plot(xs, ys, label=p)
            drew = True
        if not drew:
            plt.close(fig)
            return
        ax.set_xscale("log")
        ax.set_xlabel("latency, ms (log)")
        ax.set_ylabel("fraction")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, fname), dpi=90)
        plt.close(fig)
        made.append((title, fname))

    cdf("Announce latency CDF (round 1)", "announce-cdf.png", "a", "announce")
    cdf("WebSocket echo latency CDF (round 1)", "chatter-cdf.png", "e", "chatter")
    cdf("WebSocket broadcast fan-out latency CDF", "fanout-cdf.png", "b", "idle")

    groups = [(p, rs) for p, rs in by_proxy(rows, "announce") if p != "direct"]
    if groups:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.8))
        ps = [p for p, _ in groups]
        a1.bar(ps, [med(rs, "req_s") or 0 for _, rs in groups], color="tab:blue")
        a1.set_title("announces per second (median)")
        a2.bar(ps, [med(rs, "req_per_cpu_s") or 0 for _, rs in groups], color="tab:green")
        a2.set_title("announces per proxy CPU-second")
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "announce-throughput.png"), dpi=90)
        plt.close(fig)
        made.append(("Announce throughput per proxy", "announce-throughput.png"))

    groups = [(p, rs) for p, rs in by_proxy(rows, "ws-idle") if p != "direct"]
    if groups:
        fig, ax = plt.subplots(figsize=(6, 3.8))
        ax.bar([p for p, _ in groups], [rs[0]["kib_per_conn"] or 0 for _, rs in groups], color="tab:orange")
        ax.set_ylabel("KiB")
        ax.set_title("memory per idle proxied WebSocket (%s held)" % fmt(groups[0][1][0]["connections"]))
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "ws-memory.png"), dpi=90)
        plt.close(fig)
        made.append(("Memory per WebSocket connection", "ws-memory.png"))

    for prefix, title in (("failover", "Failover: announces answered per 100 ms (tracker killed at 3 s)"),
                          ("reload", "Reloads: announces answered per 100 ms")):
        fig, ax = plt.subplots(figsize=(8, 3.8))
        drew = False
        for p in meta["names"]:
            try:
                with open(os.path.join(samples_dir, "%s-%s.timeline" % (prefix, p))) as f:
                    pts = [tuple(float(x) for x in line.split()) for line in f]
            except OSError:
                continue
            last = max((i for i, (_, ok, _) in enumerate(pts) if ok > 0), default=len(pts) - 1)
            pts = pts[:last + 1]  # the timeline runs on past the end of the load
            ax.plot([t for t, _, _ in pts], [ok for _, ok, _ in pts], label=p)
            drew = True
        if drew:
            ax.set_xlabel("seconds")
            ax.set_title(title)
            ax.legend()
            ax.grid(True, alpha=0.3)
            fig.tight_layout()
            fig.savefig(os.path.join(out_dir, "%s-timeline.png" % prefix), dpi=90)
            made.append((title, "%s-timeline.png" % prefix))
        plt.close(fig)
    return made


def markdown(rows, meta, samples_dir, report_path):
    size = meta["size"]
    text = "# Load-test suite, %s%s\n\n" % (meta["date"], " (smoke sizes)" if meta["smoke"] else "")
    text += ("`loadtest/suite/run.py` — %s; scenarios %s; %d round(s) of the repeated scenarios, interleaved. "
             "One worker per proxy on CPU 0; opentracker, the WebSocket upstream and the generators on CPU 1; "
             "%d CPUs in all. Run time %.0f s.\n\n" % (", ".join(meta["names"]), ", ".join(meta["scenarios"]),
                                                         size["rounds"], meta["cpus"], meta["seconds"]))
    text += "Versions: " + "; ".join("%s: `%s`" % kv for kv in meta["versions"].items()) + ".\n\n"
    text += ("Sizes: announces %d connections × %d s; idle hold %d WebSockets × %d s; chatter %d WebSockets at "
             "%d messages/s (128 B) × %d s; TLS storm %d connections × %d s; reloads %d in %d s; failover "
             "%d s.\n\n" % (
                 size["announce_conns"], size["announce_s"], size["idle_conns"], size["idle_hold_s"],
                 size["chatter_conns"], size["chatter_rate"], size["chatter_s"], size["tls_conns"], size["tls_s"],
                 size["reloads"], size["reload_s"], size["failover_s"]))
    for part in (announce_table(rows), idle_table(rows), chatter_table(rows), tls_table(rows), h2_table(rows),
                 reload_table(rows),
                 failover_table(rows)):
        if part:
            text += part + "\n"
    if report_path:
        stem = os.path.splitext(os.path.basename(report_path))[0]
        made = plots(rows, samples_dir, os.path.join(os.path.dirname(report_path), stem), meta)
        if made is None:
            text += "(No plots: matplotlib is not installed; `make deps-bench` installs it.)\n"
        elif made:
            text += "### Plots\n\n" + "".join("![%s](%s/%s)\n\n" % (t, stem, f) for t, f in made)
    return text


def problems(rows, names):
    """Non-zero when edge failed anything it must not: the suite's own pass/fail (make loadtest)."""
    bad = []
    for r in rows:
        if r["proxy"] != "edge":
            continue
        if r.get("failed"):
            bad.append("%s: %d failed" % (r["scenario"], r["failed"]))
        if r["scenario"] == "reload" and (r["ws_dropped"] or r["connect_errors"]):
            bad.append("reload: %d WebSockets dropped, %d connect errors" % (r["ws_dropped"], r["connect_errors"]))
    for b in bad:
        print("PROBLEM (edge): " + b)
    return 1 if bad else 0
