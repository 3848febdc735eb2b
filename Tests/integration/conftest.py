"""Fixtures of the integration suite.

PROXY_UNDER_TEST=edge (default) runs the suite against the edge binary (EDGE_BIN, else
.build/release/edge, else .build/debug/edge); PROXY_UNDER_TEST=nginx runs it against nginx configured
as an equivalent reverse proxy, to validate the suite itself.

Markers:
  nginx_differs(reason)  the expectation is edge's contract and nginx is known to behave otherwise:
                         reported as xfail under nginx, a normal test under edge.
  edge_only(reason)      exercises the edge CLI itself (validate, version): skipped under nginx.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import harness
from harness import EdgeProxy, NginxProxy, ProxyConfig

_live_processes: list = []  # (label, object with describe()) for failure reports


def pytest_configure(config):
    config.addinivalue_line("markers", "nginx_differs(reason): edge contract that nginx does not meet; xfail under nginx")
    config.addinivalue_line("markers", "edge_only(reason): tests the edge CLI itself; skipped under nginx")


def proxy_kind() -> str:
    kind = os.environ.get("PROXY_UNDER_TEST", "edge").strip().lower() or "edge"
    if kind not in ("edge", "nginx"):
        raise pytest.UsageError("PROXY_UNDER_TEST must be 'edge' or 'nginx', not %r" % kind)
    return kind


def pytest_report_header(config):
    return "proxy under test: %s" % proxy_kind()


def pytest_collection_modifyitems(config, items):
    if proxy_kind() != "nginx":
        return
    for item in items:
        for m in item.iter_markers("nginx_differs"):
            reason = m.args[0] if m.args else m.kwargs.get("reason", "edge-specific behaviour")
            item.add_marker(pytest.mark.xfail(reason="nginx differs: " + reason, strict=False))
        for m in item.iter_markers("edge_only"):
            reason = m.args[0] if m.args else "edge CLI"
            item.add_marker(pytest.mark.skip(reason="edge only: " + reason))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for label, obj in list(_live_processes):
            try:
                report.sections.append(("process " + label, obj.describe()))
            except Exception:  # pragma: no cover - reporting must not break the run
                pass


def _resolve_edge_bin() -> str:
    env = os.environ.get("EDGE_BIN")
    if env:
        path = Path(env)
        if not path.is_absolute():
            path = harness.REPO_ROOT / path
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        pytest.fail("EDGE_BIN=%s is not an executable file; run `make build` first" % env, pytrace=False)
    for candidate in (".build/release/edge", ".build/debug/edge"):
        path = harness.REPO_ROOT / candidate
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    pytest.fail("edge binary not found (looked at $EDGE_BIN, %s/.build/release/edge and .build/debug/edge): "
                "run `make build` first, or PROXY_UNDER_TEST=nginx to check the suite against nginx"
                % harness.REPO_ROOT, pytrace=False)


@pytest.fixture(scope="session")
def edge_bin() -> str:
    return _resolve_edge_bin()


@pytest.fixture(scope="session")
def kind() -> str:
    return proxy_kind()


def _start_proxy(config: ProxyConfig, workdir: Path, request) -> harness.Proxy:
    if proxy_kind() == "edge":
        proxy = EdgeProxy(config, workdir, request.getfixturevalue("edge_bin"))
    else:
        proxy = NginxProxy(config, workdir)
    entry = (proxy.kind + " " + workdir.name, proxy)
    _live_processes.append(entry)
    try:
        proxy.start()
    except BaseException:
        _live_processes.remove(entry)
        raise
    request.addfinalizer(lambda: (_live_processes.remove(entry) if entry in _live_processes else None,
                                  proxy.stop()))
    return proxy


def _start_upstream(workdir: Path, ident: str, request, ws: bool = False) -> harness.Upstream:
    up = harness.start_ws_upstream(workdir) if ws else harness.start_http_upstream(workdir, ident)
    entry = ("upstream " + ident, up.proc)
    _live_processes.append(entry)
    request.addfinalizer(lambda: (_live_processes.remove(entry) if entry in _live_processes else None,
                                  up.stop()))
    return up


@pytest.fixture(scope="session")
def upstream(tmp_path_factory, request) -> harness.Upstream:
    """The shared HTTP upstream (id "main")."""
    return _start_upstream(tmp_path_factory.mktemp("upstream-main"), "main", request)


@pytest.fixture(scope="module")
def proxy(upstream, tmp_path_factory, request) -> harness.Proxy:
    """The proxy under test with default settings in front of the shared upstream (one per test module)."""
    return _start_proxy(ProxyConfig(upstreams=[upstream.address]), tmp_path_factory.mktemp("proxy"), request)


@pytest.fixture
def start_upstream(tmp_path, request):
    """Factory: a fresh HTTP upstream with the given id, stopped after the test."""
    def start(ident: str) -> harness.Upstream:
        return _start_upstream(tmp_path / ("upstream-" + ident), ident, request)
    return start


@pytest.fixture
def start_proxy(tmp_path, request):
    """Factory: a fresh proxy under test for a ProxyConfig, stopped after the test."""
    counter = [0]

    def start(config: ProxyConfig) -> harness.Proxy:
        counter[0] += 1
        return _start_proxy(config, tmp_path / ("proxy%d" % counter[0]), request)
    return start


@pytest.fixture(scope="module")
def ws_upstream(tmp_path_factory, request) -> harness.Upstream:
    return _start_upstream(tmp_path_factory.mktemp("ws-echo"), "ws", request, ws=True)


@pytest.fixture(scope="module")
def ws_proxy(ws_upstream, tmp_path_factory, request) -> harness.Proxy:
    """The proxy under test in front of the WebSocket echo server."""
    return _start_proxy(ProxyConfig(upstreams=[ws_upstream.address]), tmp_path_factory.mktemp("ws-proxy"), request)
