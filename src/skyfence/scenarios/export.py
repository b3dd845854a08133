"""A scenario's inputs as the files a user would have: radar plots as ASTERIX CAT048,
ADS-B as an OpenSky-style CSV, custom zones as GeoJSON, and the exact ``skyfence scan``
and ``skyfence watch`` commands that run them.

The scenario evaluation itself reads its radar plots back from the same CAT048 bytes
(:func:`radar_file_plots`) and its ADS-B through the same table reader, so that
``skyfence scan`` of the exported files gives the very records ``skyfence eval``
scores: what is scored is what users run.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from skyfence.asterix_writer import encode_cat048
from skyfence.radar import RadarSite
from skyfence.scenarios.generate import Generated
from skyfence.sources.asterix import decode_asterix
from skyfence.sources.tabular import normalize_table

__all__ = ["ExportedScenario", "adsb_table", "export_scenario", "radar_file_plots"]

#: columns of the exported ADS-B table (OpenSky state-vector names, SI units)
ADSB_COLUMNS = ("time", "icao24", "lat", "lon", "geoaltitude", "velocity", "heading",
                "vertrate", "callsign")


@dataclass(frozen=True)
class ExportedScenario:
    """Files written by :func:`export_scenario` and the options that scan them."""

    radar: Path | None
    adsb: Path | None
    zones: Path | None
    #: options shared by scan and watch: zones, watch states, policy, radar sites, date
    options: tuple[str, ...]

    def scan_command(self) -> list[str]:
        """``skyfence scan`` of the exported files, every entry, as JSON Lines."""
        files = [str(p) for p in (self.radar, self.adsb) if p is not None]
        return ["skyfence", "scan", *files, *self.options, "--all-entries", "--format", "jsonl"]

    def watch_command(self) -> list[str]:
        """``skyfence watch`` replaying the same files as fast as possible."""
        src = []
        if self.radar is not None:
            src += ["--asterix", str(self.radar)]
        if self.adsb is not None:
            src += ["--replay", str(self.adsb)]
        return ["skyfence", "watch", *src, "--speed", "0", *self.options, "--all-entries",
                "--format", "jsonl", "--horizon", "0"]


def first_date(plots: pd.DataFrame) -> str:
    """UTC date of the first plot (what ``--date`` gives an ASTERIX reader)."""
    t0 = float(plots["time"].min())
    return dt.datetime.fromtimestamp(t0, tz=dt.UTC).date().isoformat()


def radar_file_plots(plots: pd.DataFrame, sites: list[RadarSite]) -> tuple[bytes, pd.DataFrame]:
    """The plots as CAT048 bytes and as read back from them (with each plot's ``target``
    carried over: record ``k`` is the ``k``-th plot written)."""
    if len(plots) == 0:
        return b"", plots
    ordered = plots.sort_values("time", kind="stable").reset_index(drop=True)
    data = encode_cat048(ordered)
    back = decode_asterix(data, sites=sites, date=first_date(ordered)).plots
    if len(back) != len(ordered):
        raise RuntimeError(f"CAT048 round trip kept {len(back)} of {len(ordered)} plots")
    if "target" in ordered:
        back["target"] = ordered["target"].to_numpy(object)[back["record"].to_numpy() - 1]
    return data, back


def adsb_table(adsb: pd.DataFrame) -> pd.DataFrame:
    """ADS-B observations as the OpenSky-style table written to CSV."""
    out = pd.DataFrame({c: adsb[c if c != "geoaltitude" else "altitude"].to_numpy()
                        for c in ADSB_COLUMNS})
    return out


def read_back_adsb(adsb: pd.DataFrame) -> pd.DataFrame:
    """ADS-B observations exactly as reading the exported CSV gives them (extra columns
    of the input, e.g. ``target``, kept)."""
    obs = normalize_table(adsb_table(adsb), name="adsb.csv")
    for c in adsb.columns:
        if c not in obs.columns:
            obs[c] = adsb[c].to_numpy()
    return obs


def _zone_options(gen: Generated, out: Path) -> tuple[list[str], Path | None]:
    sc = gen.scenario
    opts: list[str] = []
    for name in sc.national:
        opts += ["--zone", name]
    feats = []
    for c in sc.circles:
        props = {"name": c.name, "radius_km": c.radius_km, "floor_m": c.floor_m,
                 "ceiling_m": c.ceiling_m}
        feats.append({"type": "Feature", "geometry": {"type": "Point",
                                                      "coordinates": [c.lon, c.lat]},
                      "properties": {k: v for k, v in props.items() if v is not None}})
    for path in sc.geojson:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        feats.extend(doc["features"] if doc.get("type") == "FeatureCollection" else [doc])
    if not feats:
        return opts, None
    zones = out / "zones.geojson"
    zones.write_text(json.dumps({"type": "FeatureCollection", "features": feats}, indent=1),
                     encoding="utf-8")
    return [*opts, "--zones-file", str(zones)], zones


def export_scenario(gen: Generated, out: str | Path) -> ExportedScenario:
    """Write a generated scenario's inputs to ``out`` (created) and say how to scan them."""
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    sc = gen.scenario
    opts, zones = _zone_options(gen, outdir)
    for state in sc.watch_states:
        opts += ["--watch-state", state]
    if sc.policy is not None:
        opts += ["--policy", str(sc.policy)]
    radar = adsb = None
    if len(gen.plots):
        data, _ = radar_file_plots(gen.plots, gen.sites)
        radar = outdir / "radar.ast"
        radar.write_bytes(data)
        for site in gen.sites:
            opts += ["--radar", site.spec()]
        opts += ["--date", first_date(gen.plots)]
    if len(gen.adsb):
        adsb = outdir / "adsb.csv"
        adsb_table(gen.adsb).to_csv(adsb, index=False, float_format=None)
    exported = ExportedScenario(radar, adsb, zones, tuple(opts))
    (outdir / "commands.sh").write_text(
        "# skyfence scenario inputs: scan them, or replay them live\n"
        + shlex.join(exported.scan_command()) + "\n"
        + shlex.join(exported.watch_command()) + "\n", encoding="utf-8")
    return exported
