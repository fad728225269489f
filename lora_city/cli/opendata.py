"""``lora-city opendata export``: the daily open-data files (CSV and GeoJSON) for the city's portal, and which
devices they count and why the others were left out (issue 21: an export of 0 rows used to say nothing)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import typer

from lora_city.cli.config import load_settings, open_database
from lora_city.opendata.export import REASON_TEXT, Export, Reason, build_export, to_csv, to_geojson
from lora_city.storage.db import make_session_factory

opendata_app = typer.Typer(help="Open-data exports (aggregated, non-personal).", no_args_is_help=True)


@opendata_app.command("export")
def export(
    ctx: typer.Context,
    day: str = typer.Option("", "--date", help="Local day YYYY-MM-DD (default: yesterday, Europe/Paris)"),
    out: Path = typer.Option(Path("."), "--out", help="Folder for the CSV and GeoJSON files"),
    devices: bool = typer.Option(True, "--devices/--summary",
                                 help="List each device left out with its reasons (--summary: the counts only)"),
) -> None:
    """Write opendata-<date>.csv and opendata-<date>.geojson, then say which devices count and why others don't."""
    when = date.fromisoformat(day) if day else datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1)
    engine = open_database(load_settings(ctx))
    try:
        result = build_export(make_session_factory(engine), when)
    finally:
        engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    (out / f"opendata-{when}.csv").write_text(to_csv(result.rows))
    (out / f"opendata-{when}.geojson").write_text(to_geojson(result.rows))
    typer.echo(f"{len(result.rows)} rows written to {out}")
    typer.echo("\n".join(explain(result, per_device=devices)))


def explain(result: Export, *, per_device: bool = True) -> list[str]:
    """The export's account of the fleet: counted devices per dataset, left-out devices per reason, then (if
    asked) each left-out device with every reason."""
    lines = [f"{len(result.devices)} devices: {len(result.counted)} counted, {len(result.left_out)} left out"]
    for dataset, n in result.counted_by_dataset().items():
        lines.append(f"  counted in {dataset}: {n}")
    for reason, n in result.left_out_by_reason().items():
        lines.append(f"  left out, {REASON_TEXT[reason]}: {n}")
    if per_device and result.left_out:
        lines.append("Left out:")
        for v in result.left_out:
            reasons = "; ".join(f"no {v.measurement} reading that day" if r is Reason.NO_MEASUREMENT and v.measurement
                                else REASON_TEXT[r] for r in v.reasons)
            lines.append(f"  {v.dev_eui}  {v.name} ({v.family or 'not heard'}, {v.tenant}): {reasons}")
    return lines
