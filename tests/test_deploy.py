"""Deployment files keep their promises: safe production config, non-root image with a health
check, replicas with sticky sessions and health probes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_production_config_is_safe():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["fileWatcherType"] == "none"
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["runOnSave"] is False


def test_dockerfile():
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    workdir = re.findall(r"^WORKDIR (\S+)", text, re.M)
    assert workdir and all(w != "/" for w in workdir)
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in text and "/_stcore/health" in text
    copied = set(re.findall(r"^COPY (?:--\S+ )*(.+?) \S+$", text, re.M))
    sources = {s for line in copied for s in line.split()}
    for needed in ("app.py", "pages", "src", "static", ".streamlit", "requirements.txt", "pyproject.toml"):
        assert needed in sources, f"the image must contain {needed}"


def test_kubernetes_replicas_are_sticky_and_probed():
    docs = {d["kind"]: d for d in yaml.safe_load_all((ROOT / "deploy" / "kubernetes.yaml").read_text())}
    deployment = docs["Deployment"]
    assert deployment["spec"]["replicas"] >= 2
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_stcore/health"
    assert docs["Service"]["spec"]["sessionAffinity"] == "ClientIP"
    assert docs["Ingress"]["metadata"]["annotations"]["nginx.ingress.kubernetes.io/affinity"] == "cookie"
