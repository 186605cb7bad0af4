"""deploy/prometheus and deploy/grafana: rules, their unit tests and the scrape config pass promtool; every
dashboard query is valid PromQL, and every Kefu metric the rules and dashboard read is one the code exports.

Needs Debian's `prometheus` package (promtool); `.ci/run` installs it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "kefu.json"
SOURCES = [*ROOT.glob("bot/*.py"), *ROOT.glob("actions/*.py"), *ROOT.glob("kefu_ops/*.py"),
           *ROOT.glob("crm_backend/**/*.py")]
DEFINED = re.compile(r"""(?:Counter|Gauge|Histogram|GaugeMetricFamily)\(\s*["'](kefu_[a-z0-9_]+)["']""")
USED = re.compile(r"\bkefu_[a-z0-9_]+\b")
SUFFIXES = ("_bucket", "_count", "_sum")


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool not found: install Debian's `prometheus` package (apt-get install -y prometheus)")
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_alert_rules_are_valid() -> None:
    done = promtool("check", "rules", "alerts.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_alert_rules_fire_on_their_unit_test_series() -> None:
    done = promtool("test", "rules", "alerts_test.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    tested = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts_test.yml").read_text()))
    required = {"KefuHighErrorRate", "KefuBotRepliesSlow", "KefuAgentQueueWaitLong", "KefuKeptWritesPilingUp",
                "KefuWorkerStopped"}
    assert required <= tested, f"untested alerts: {required - tested}"


def test_scrape_config_is_valid(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("metrics-token")
    config = (PROMETHEUS / "prometheus.yml").read_text().replace("/etc/prometheus/kefu-metrics-token", str(token))
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path / "alerts.yml")
    done = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = {job["job_name"] for job in yaml.safe_load(config)["scrape_configs"]}
    assert jobs == {"kefu-rasa", "kefu-actions", "kefu-crm"}


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    queries = dashboard_queries()
    assert len(queries) >= 15
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"kefu:dashboard_query_{n}", "expr": query}
                                                         for n, query in enumerate(queries)]}]}
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules, allow_unicode=True))
    done = promtool("check", "rules", "queries.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_rules_and_dashboard_read_only_metrics_the_code_exports() -> None:
    defined = {name for path in SOURCES for name in DEFINED.findall(path.read_text(encoding="utf-8"))}
    assert {"kefu_bot_messages_total", "kefu_handoff_queue_length", "kefu_crm_call_duration_seconds"} <= defined
    text = (PROMETHEUS / "alerts.yml").read_text() + "\n".join(dashboard_queries())
    used = set(USED.findall(text))
    unknown = {name for name in used
               if name not in defined and not any(name.endswith(s) and name[:-len(s)] in defined for s in SUFFIXES)}
    assert not unknown, f"rules/dashboard read metrics nobody exports: {sorted(unknown)}"
