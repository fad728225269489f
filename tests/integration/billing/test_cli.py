"""``lora-city billing`` in real processes: a run killed with SIGKILL in the middle of an invoice's transaction
leaves no partial invoice and no used number; the rerun completes without duplicate or gap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from billing.models import Invoice, InvoiceLine
from lora_city.cli.main import app
from tests.integration.billing.conftest import Db, feed_october, october_scenario
from tests.support.schema import ROOT

# Dies on the second commit: beta's invoice is flushed (number taken, lines written) but not committed.
KILLER = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.orm import Session
commits = [0]
def die(session):
    commits[0] += 1
    if commits[0] == 2:
        os.kill(os.getpid(), signal.SIGKILL)
event.listen(Session, "before_commit", die)
from lora_city.cli.main import app
app(sys.argv[1:])
"""


def lora_city(db: Db, *args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LORA_CITY_DATABASE_URL": db.url}
    cmd = [sys.executable, "-c", script or "from lora_city.cli.main import app; app()", *args]
    if script is None:
        cmd = [sys.executable, "-m", "lora_city.cli.main", *args]
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def numbers(db: Db) -> list[tuple[str, str]]:
    with db.factory() as s:
        return [(i.number, i.tenant_id) for i in s.scalars(select(Invoice).order_by(Invoice.number))]


def test_run_killed_midway_then_rerun(db: Db, tmp_path: Path) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    args = ("billing", "run", "--period", "2026-10", "--today", "2026-11-03")
    killed = lora_city(db, *args, script=KILLER)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert numbers(db) == [("F2026-000001", ids["acme"])]
    with db.factory() as s:
        assert {ln.invoice_id for ln in s.scalars(select(InvoiceLine))} == {
            s.scalar(select(Invoice.id).where(Invoice.number == "F2026-000001"))}
    done = lora_city(db, *args)
    assert done.returncode == 0, done.stderr
    assert "2 created, 1 already there, 2 skipped" in done.stdout
    assert numbers(db) == [("F2026-000001", ids["acme"]), ("F2026-000002", ids["beta"]),
                           ("R2026-000001", ids["flood"])]


def test_documents_and_usage_commands(db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = october_scenario(db.factory)
    feed_october(db.factory, ids)
    monkeypatch.setenv("LORA_CITY_DATABASE_URL", db.url)  # the CLI builds its Settings from the environment
    runner = CliRunner()
    first = runner.invoke(app, ["billing", "run", "--period", "2026-10", "--today", "2026-11-03"])
    assert "3 created, 0 already there, 2 skipped" in first.output
    # issue 21: "3 skipped" and never why; now one line per tenant left out, with what to do
    assert "skipped city: the city's own tenant is not billed" in first.output
    assert "skipped noplan: no plan assigned (console: Tenants)" in first.output
    again = runner.invoke(app, ["billing", "run", "--period", "2026-10", "--today", "2026-11-04"])
    assert "0 created, 3 already there" in again.output
    pdf, csv = tmp_path / "f1.pdf", tmp_path / "f1.csv"
    shown = runner.invoke(app, ["billing", "invoice", "F2026-000001", "--pdf", str(pdf), "--csv", str(csv)])
    assert "total 62.50 EUR" in shown.output
    assert pdf.read_bytes().startswith(b"%PDF") and csv.read_text().endswith(",total,,,,62.50,\n")
    note = runner.invoke(app, ["billing", "credit-note", "F2026-000002", "--reason", "duplicate"])
    assert "created F2026-000003" in note.output  # invoices and credit notes share the F series
    usage = tmp_path / "usage.csv"
    runner.invoke(app, ["billing", "usage", "--tenant", "acme", "--period", "2026-10", "--out", str(usage)])
    assert usage.read_text().splitlines() == [
        "dev_eui,uplinks,duplicates,downlinks,airtime_up_ms,airtime_down_ms,bytes_up,bytes_down,billable",
        "00000000000000d1,5,5,0,2000.000,0.000,100,0,yes",
        "00000000000000d2,4,0,0,400.000,0.000,80,0,yes",
        "00000000000000d3,1,0,0,1500.000,0.000,20,0,yes",
    ]
