"""Measure ASTERIX decode rates of the codec installed in this interpreter.

`asterix-decoder` and `libasterix` both install a module named ``asterix``, so each runs
in its own venv on the same bytes and extracts the same fields (what
``skyfence.sources.asterix`` needs). Usage::

    python benchmarks/asterix_codecs.py FILE.raw [--repeat N]

FILE.raw is concatenated ASTERIX data blocks (CAT048 and/or CAT062). Prints one JSON
line: codec, records, seconds, records_per_s.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any


def split_blocks(data: bytes) -> list[bytes]:
    """Cut a byte string into ASTERIX data blocks (CAT, LEN16, ...)."""
    out, off = [], 0
    while off + 3 <= len(data):
        n = int.from_bytes(data[off + 1 : off + 3], "big")
        out.append(data[off : off + n])
        off += n
    return out


def decode_asterix_decoder(blocks: list[bytes]) -> list[tuple[Any, ...]]:
    """Decode with asterix-decoder (C++ core) and pull out the fields skyfence uses."""
    import asterix

    rows: list[tuple[Any, ...]] = []
    for blk in blocks:
        for r in asterix.parse(blk, verbose=False):
            if r["category"] == 48:
                pos = r.get("I040")
                fl = r.get("I090")
                adr = r.get("I220")
                a3 = r.get("I070")
                rows.append((
                    r["I010"]["SAC"]["val"], r["I010"]["SIC"]["val"], r["I140"]["ToD"]["val"],
                    pos["RHO"]["val"] if pos else None, pos["THETA"]["val"] if pos else None,
                    fl["FL"]["val"] if fl else None, adr["ACAddr"]["val"] if adr else None,
                    a3["Mode3A"]["val"] if a3 else None,
                ))
            elif r["category"] == 62:
                wgs = r.get("I105")
                adr = r.get("I380", {}).get("ADR")
                rows.append((
                    r["I010"]["SAC"]["val"], r["I010"]["SIC"]["val"], r["I070"]["ToT"]["val"],
                    r["I040"]["TrkN"]["val"], wgs["Lat"]["val"] if wgs else None,
                    wgs["Lon"]["val"] if wgs else None,
                    adr["ADR"]["val"] if adr else None,
                ))
    return rows


def decode_libasterix(blocks: list[bytes]) -> list[tuple[Any, ...]]:
    """Decode with libasterix (pure Python, typed) and pull out the same fields."""
    import asterix.generated as gen
    from asterix.base import Bits, RawDatablock

    cat048 = gen.Cat_048_1_32
    cat062 = gen.Cat_062_1_18

    def sub(item: Any, name: str) -> Any:
        return item.variation.get_item(name).variation.content

    rows: list[tuple[Any, ...]] = []
    for blk in blocks:
        raw = RawDatablock.parse(Bits.from_bytes(blk))
        if isinstance(raw, ValueError):
            raise raw
        for db in raw:
            cat = db.get_category()
            if cat == 48:
                recs = cat048.cv_uap.parse(db.get_raw_records())
                if isinstance(recs, ValueError):
                    raise recs
                for r in recs:
                    i010, pos, fl = r.get_item("010"), r.get_item("040"), r.get_item("090")
                    adr, a3, tod = r.get_item("220"), r.get_item("070"), r.get_item("140")
                    rows.append((
                        sub(i010, "SAC").as_uint(), sub(i010, "SIC").as_uint(),
                        tod.variation.content.as_quantity("s"),
                        sub(pos, "RHO").as_quantity("NM") if pos else None,
                        sub(pos, "THETA").as_quantity("°") if pos else None,
                        sub(fl, "FL").as_quantity("FL") if fl else None,
                        adr.variation.content.as_uint() if adr else None,
                        sub(a3, "MODE3A").as_string() if a3 else None,
                    ))
            elif cat == 62:
                recs = cat062.cv_uap.parse(db.get_raw_records())
                if isinstance(recs, ValueError):
                    raise recs
                for r in recs:
                    i010, wgs, tot = r.get_item("010"), r.get_item("105"), r.get_item("070")
                    trk = r.get_item("040")
                    rows.append((
                        sub(i010, "SAC").as_uint(), sub(i010, "SIC").as_uint(),
                        tot.variation.content.as_quantity("s"),
                        trk.variation.content.as_uint(),
                        sub(wgs, "LAT").as_quantity("°") if wgs else None,
                        sub(wgs, "LON").as_quantity("°") if wgs else None,
                        None,
                    ))
    return rows


def main() -> None:
    """Time one codec on a file, best of three."""
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    with open(args.file, "rb") as f:
        blocks = split_blocks(f.read()) * args.repeat
    try:
        import asterix.base  # noqa: F401

        codec, fn = "libasterix", decode_libasterix
    except ImportError:
        codec, fn = "asterix-decoder", decode_asterix_decoder
    best, rows = float("inf"), []
    for _ in range(3):
        t0 = time.perf_counter()
        rows = fn(blocks)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"codec": codec, "records": len(rows), "seconds": round(best, 4),
                      "records_per_s": round(len(rows) / best), "first": repr(rows[0])}))


if __name__ == "__main__":
    main()
