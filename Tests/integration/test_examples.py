"""Every Caddyfile shipped for operators (deploy/examples/**, the package's default, the demo) passes
`edge validate`, with the environment empty (the `{$VAR:default}` fallbacks) and with it set; and so does
every ```caddyfile block of the README and the operator documents."""
from __future__ import annotations

import re
import subprocess

import pytest

import harness

pytestmark = pytest.mark.edge_only("edge validate on the shipped configurations")

DEPLOY = harness.REPO_ROOT / "deploy"
CADDYFILES = sorted(DEPLOY.glob("examples/**/Caddyfile")) + [DEPLOY / "debian/Caddyfile", DEPLOY / "demo/Caddyfile"]
EXAMPLE_ENV = {"TRACKER_DOMAIN": "tracker.test", "ACME_EMAIL": "ops@tracker.test", "APP_DOMAIN": "quiz.test",
               "APP_UPSTREAM": "127.0.0.1:8000"}


def validate(edge_bin, path, env):
    return subprocess.run([edge_bin, "validate", "--config", str(path)], capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", **env})


def test_there_are_examples():
    names = {p.parent.name for p in CADDYFILES}
    assert {"tracker", "static-app", "cluster", "debian"} <= names, names


@pytest.mark.parametrize("path", CADDYFILES, ids=lambda p: str(p.relative_to(DEPLOY)))
@pytest.mark.parametrize("env", [{}, EXAMPLE_ENV], ids=["defaults", "environment"])
def test_shipped_caddyfile_validates(edge_bin, path, env, tmp_path):
    p = validate(edge_bin, path, {"HOME": str(tmp_path), **env})
    assert p.returncode == 0 and "valid configuration" in p.stdout, p.stdout + p.stderr
    assert not any(tmp_path.iterdir()), "validate wrote into the storage directory"


def test_environment_reaches_the_site_names(edge_bin, tmp_path):
    out = subprocess.run([edge_bin, "adapt", "--config", str(DEPLOY / "examples/tracker/Caddyfile")], capture_output=True,
                         text=True, timeout=30, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **EXAMPLE_ENV})
    assert out.returncode == 0, out.stderr
    for name in ("api.tracker.test", "http1.tracker.test", "grafana.tracker.test"):
        assert '"%s"' % name in out.stdout, name


DOCUMENTS = ["README.md", "docs/configuration.md", "docs/operations.md", "docs/security.md",
             "docs/migrating-from-caddy.md", "docs/migrating-from-nginx-certbot.md", "docs/observability.md",
             "docs/telemetry.md", "docs/limits.md", "deploy/examples/cluster/README.md"]


def documented_caddyfiles():
    blocks = []
    for name in DOCUMENTS:
        text = (harness.REPO_ROOT / name).read_text()
        for index, block in enumerate(re.findall(r"```caddyfile\n(.*?)```", text, re.S)):
            blocks.append(pytest.param(block, id="%s#%d" % (name, index + 1)))
    return blocks


@pytest.mark.parametrize("text", documented_caddyfiles())
def test_documented_caddyfile_validates(edge_bin, text, tmp_path):
    config = tmp_path / "Caddyfile"
    config.write_text(text)
    p = validate(edge_bin, config, {"HOME": str(tmp_path)})
    assert p.returncode == 0, p.stdout + p.stderr
