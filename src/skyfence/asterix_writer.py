"""Plot batches written as ASTERIX CAT048 data blocks: the bytes a radar sends.

Scenarios and tests make radar input with :func:`encode_cat048`; the readers
(:mod:`skyfence.sources.asterix`) read it back like any recording, so a scenario runs
through the very decoding path that real radar data takes. Only the items scenarios
need are written; ``asterix-decoder`` checks them (tests decode what is written).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skyfence.vocab import DAY_S, FT, NM

__all__ = ["encode_cat048"]

#: I020 target report type: what detected the target
_TYP_CODE = {"psr": 1, "ssr": 2, "ssr+psr": 3, "modes": 5, "modes+psr": 7}


def encode_cat048(plots: pd.DataFrame, *, records_per_block: int = 64) -> bytes:
    """Encode a plot batch as CAT048 data blocks (what a radar would send).

    Writes I010, I140, I020, I040 and, where the plot has them, I070 (squawk),
    I090 (altitude as flight level), I220 (Mode S address). ``time`` becomes the
    time of day (1/128 s); ``range_m``/``azimuth_deg`` are the measured polar
    position. Scenarios use this to emit real radar bytes.
    """
    out = bytearray()
    rows = _encode_rows(plots)
    for start in range(0, len(rows), records_per_block):
        body = b"".join(rows[start : start + records_per_block])
        out += bytes([48]) + (3 + len(body)).to_bytes(2, "big") + body
    return bytes(out)


def _encode_rows(plots: pd.DataFrame) -> list[bytes]:
    """One CAT048 record (FSPEC and items) per plot."""
    n = len(plots)
    tod = np.round((np.asarray(plots["time"], float) % DAY_S) * 128).astype(np.int64) % (1 << 24)
    rho = np.round(np.asarray(plots["range_m"], float) / NM * 256).astype(np.int64)
    theta = np.round(np.asarray(plots["azimuth_deg"], float) % 360 / 360 * 65536
                     ).astype(np.int64) % 65536
    alt = np.asarray(plots["altitude"], float) if "altitude" in plots else np.full(n, np.nan)
    fl4 = np.round(alt / FT / 25)  # flight level in 1/4 FL
    icao = plots["icao24"].to_numpy(object) if "icao24" in plots else np.full(n, None)
    squawk = plots["squawk"].to_numpy(object) if "squawk" in plots else np.full(n, None)
    sac = np.asarray(plots["sac"], np.int64)
    sic = np.asarray(plots["sic"], np.int64)
    if np.any((rho < 0) | (rho > 0xFFFF)):
        raise ValueError("range_m outside the CAT048 I040 range (0-256 NM)")
    rows = []
    for k in range(n):
        has_a3 = isinstance(squawk[k], str) and len(squawk[k]) == 4
        has_fl = bool(np.isfinite(fl4[k]))
        has_s = isinstance(icao[k], str) and len(icao[k]) == 6
        typ = _TYP_CODE["modes" if has_s else ("ssr" if has_a3 or has_fl else "psr")]
        # FSPEC: FRN1 I010, 2 I140, 3 I020, 4 I040, 5 I070, 6 I090, 7 I130 | 8 I220
        fs1 = 0b11110000 | (0b1000 if has_a3 else 0) | (0b100 if has_fl else 0)
        items = [
            bytes([sac[k], sic[k]]),
            int(tod[k]).to_bytes(3, "big"),
            bytes([typ << 5]),
            int(rho[k]).to_bytes(2, "big") + int(theta[k]).to_bytes(2, "big"),
        ]
        if has_a3:
            items.append(int(squawk[k], 8).to_bytes(2, "big"))
        if has_fl:
            items.append((int(fl4[k]) & 0x3FFF).to_bytes(2, "big"))
        if has_s:
            items.append(bytes.fromhex(icao[k]))
            fspec = bytes([fs1 | 1, 0b10000000])
        else:
            fspec = bytes([fs1])
        rows.append(fspec + b"".join(items))
    return rows
