"""The fast CSV reader (pyarrow) against the reference reader (pandas), file by file.

The reference is the reader every message was written for: for every file below, good
or bad, the fast path must give the same observations, or the same error message, or
the same skipped rows, as ``reference_csv=True``. Clean files must really be read by
the fast path (the reference is made to fail for them), so that "equal" is not just
"fell back every time".
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skyfence.errors import InputError
from skyfence.sources import tabular
from skyfence.sources.tabular import RejectLog, iter_table_chunks, read_table

HEADER = "time,icao24,lat,lon,baroaltitude,velocity,heading,vertrate,callsign,squawk,onground\n"
GOOD = ("1700000000.0,4b1234,47.1,8.2,10000.0,200.5,90.0,0.0,SWR12,1000,False\n"
        "1700000010.5,4B1234,47.2,8.3,,200.5,91.0,-1.5, SWR12 ,7700,True\n"
        "1700000000,abc,-33.5,151.25,120,5,359.9,1e1,,,\n")


def _write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> Path:
    p = tmp_path / name
    data = text.encode() if isinstance(text, str) else text
    p.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    return p


def _outcome(path: Path, *, reference: bool, on_error: str = "abort", chunk_rows: int = 1000
             ) -> tuple[str, object]:
    rejects = RejectLog()
    try:
        frames = list(iter_table_chunks(path, on_error=on_error, rejects=rejects,
                                        chunk_rows=chunk_rows, reference_csv=reference))
    except InputError as exc:
        return "error", str(exc)
    df = pd.concat(frames, ignore_index=True)
    return "ok", (df.to_dict("list"), rejects.count, rejects.by_field, rejects.examples)


def _same(a: tuple[str, object], b: tuple[str, object]) -> None:
    assert a[0] == b[0], (a, b)
    if a[0] == "error":
        assert a[1] == b[1]
        return
    da, db = a[1][0], b[1][0]  # type: ignore[index]
    assert da.keys() == db.keys()
    for k in da:
        x, y = np.asarray(da[k], dtype=object), np.asarray(db[k], dtype=object)
        same = [(u is v) or (u == v) or (isinstance(u, float) and isinstance(v, float)
                                         and np.isnan(u) and np.isnan(v))
                for u, v in zip(x.tolist(), y.tolist(), strict=True)]
        assert all(same), (k, x, y)
    assert a[1][1:] == b[1][1:]  # type: ignore[index]


CASES = {
    "clean": HEADER + GOOD,
    "clean_gz": HEADER + GOOD,
    "crlf": (HEADER + GOOD).replace("\n", "\r\n"),
    "no_final_newline": HEADER + GOOD.rstrip("\n"),
    "quoted": HEADER + '1700000000,"4b1234","47.1","8.2",,,,,"A,B",,\n',
    "quoted_newline": HEADER + '1700000000,4b1234,47.1,8.2,,,,,"A\nB",,\n',
    "nan_text": HEADER + "1700000000,4b1234,47.1,8.2,nan,,,,,,\n",
    "nan_paren": HEADER + "1700000000,4b1234,47.1,8.2,nan(1),,,,,,\n",
    "inf": HEADER + "1700000000,4b1234,47.1,8.2,inf,,,,,,\n",
    "huge_exponent": HEADER + "1700000000,4b1234,47.1,8.2,1e500,,,,,,\n",
    "minus_zero": HEADER + "1700000000,4b1234,-0,8.2,,,,,,,\n",
    "blank_around": HEADER + "1700000000,4b1234, 47.1 ,8.2,,,,,,,\n",
    "bad_number": HEADER + GOOD + "1700000020,4b1234,x,8.2,,,,,,,\n",
    "out_of_range": HEADER + GOOD + "1700000020,4b1234,95.5,8.2,,,,,,,\n",
    "iso_time": HEADER + "2023-11-14T22:13:20Z,4b1234,47.1,8.2,,,,,,,\n",
    "ms_times": HEADER + "1700000000000,4b1234,47.1,8.2,,,,,,,\n",
    "missing_lat": HEADER + "1700000000,4b1234,,8.2,,,,,,,\n",
    "empty_id": HEADER + "1700000000,,47.1,8.2,,,,,,,\n",
    "nul_in_id": HEADER + "1700000000,4b\x001234,47.1,8.2,,,,,,,\n",
    "nul_in_number": HEADER + "1700000000,4b1234,47\x00.1,8.2,,,,,,,\n",
    "ragged_short": HEADER + "1700000000,4b1234,47.1\n",
    "ragged_long": HEADER + GOOD + "1700000000,4b1234,47.1,8.2,,,,,,,,9,9\n",
    "duplicate_header": "time,icao24,lat,lon,lat\n1700000000,4b1234,47.1,8.2,1\n",
    "blank_header": "time,icao24,lat,lon,\n1700000000,4b1234,47.1,8.2,1\n",
    "missing_column": "time,icao24,lat\n1700000000,4b1234,47.1\n",
    "header_only": HEADER,
    "bom": "\ufeff" + HEADER + GOOD,
    "bad_squawk": HEADER + "1700000000,4b1234,47.1,8.2,,,,,,7800,\n",
    "traffic_columns": "timestamp,icao24,latitude,longitude,altitude,groundspeed\n"
                       "1700000000,4b1234,47.1,8.2,35000,450\n",
    "extra_columns": "time,icao24,lat,lon,note,x\n1700000000,4b1234,47.1,8.2,hello,1\n",
    "blank_line": HEADER + GOOD + "\n" + GOOD,
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("on_error", ["abort", "skip"])
def test_fast_reader_gives_what_the_reference_gives(tmp_path: Path, case: str,
                                                    on_error: str) -> None:
    path = _write(tmp_path, CASES[case], "in.csv.gz" if case.endswith("gz") else "in.csv")
    _same(_outcome(path, reference=False, on_error=on_error),
          _outcome(path, reference=True, on_error=on_error))


def test_invalid_utf8_in_an_unread_column_is_reported_like_the_reference(tmp_path: Path
                                                                         ) -> None:
    path = _write(tmp_path, HEADER.replace("\n", ",note\n").encode()
                  + b"1700000000,4b1234,47.1,8.2,,,,,,,,caf\xe9\n")
    fast, ref = _outcome(path, reference=False), _outcome(path, reference=True)
    assert ref[0] == "error" and "cannot read as CSV" in str(ref[1])
    _same(fast, ref)


def test_bad_value_in_a_later_chunk_resumes_the_reference_there(tmp_path: Path) -> None:
    rows = [f"{1700000000 + i},{i % 7:06x},47.{i:04d},8.1,,,,,,,\n" for i in range(50)]
    rows[37] = "1700000037,000002,91.0,8.1,,,,,,,\n"  # latitude out of range in chunk 4
    path = _write(tmp_path, HEADER + "".join(rows))
    for on_error in ("abort", "skip"):
        fast = _outcome(path, reference=False, on_error=on_error, chunk_rows=10)
        _same(fast, _outcome(path, reference=True, on_error=on_error, chunk_rows=10))
    assert "row 38" in str(_outcome(path, reference=False, chunk_rows=10)[1])


def test_clean_files_are_read_by_the_fast_reader(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    expected = read_table(_write(tmp_path, HEADER + GOOD), reference_csv=True)

    def refuse(path: Path, chunk_rows: int) -> object:
        raise AssertionError("the reference reader was used")

    monkeypatch.setattr(tabular, "pandas_csv_chunks", refuse)
    for name in ("a.csv", "b.csv.gz"):
        got = read_table(_write(tmp_path, HEADER + GOOD, name))
        pd.testing.assert_frame_equal(got, expected)
    got = list(iter_table_chunks(_write(tmp_path, HEADER + GOOD * 5, "c.csv"), chunk_rows=4))
    assert [len(g) for g in got] == [4, 4, 4, 3]


def test_numbers_are_correctly_rounded(tmp_path: Path) -> None:
    # 17 significant digits: the correctly rounded double is Python's float(text);
    # pandas' to_numeric is one unit in the last place off for some such texts
    texts = ["0.30000000000000004", "47.123456789012345", "8.0000000000000018"]
    body = "".join(f"1700000000,4b1234,{t},8.5,,,,,,,\n" for t in texts)
    path = _write(tmp_path, HEADER + body)
    assert read_table(path)["lat"].tolist() == [float(t) for t in texts]
    # the reference reader differs on two of them (why the fast reader is the one kept)
    ref = read_table(path, reference_csv=True)["lat"].tolist()
    assert sum(r != float(t) for r, t in zip(ref, texts, strict=True)) == 2


def _damaged(kind: str) -> bytes:
    # 5 MB of text: the damage lies beyond what reading the header decompresses
    rows = "".join(f"{1700000000 + i},{i % 50:06x},47.{i:06d},8.1,,,,,,,\n"
                   for i in range(150_000))
    data = gzip.compress((HEADER + rows).encode(), mtime=0)
    if kind == "truncated":
        return data[: len(data) * 2 // 3]
    if kind == "crc":
        return data[:-8] + bytes(8)
    if kind == "deflate":  # an invalid deflate block (not only a wrong checksum)
        mid = len(data) // 2
        return data[:mid] + b"\xff" * 64 + data[mid + 64 :]
    return (HEADER + rows).encode()  # not gzip at all, named .gz


@pytest.mark.parametrize("kind", ["truncated", "crc", "deflate", "plain"])
def test_a_damaged_gzip_file_is_reported_like_the_reference(tmp_path: Path,
                                                            kind: str) -> None:
    """Decompressed by ISA-L for the fast reader and by Python's gzip for the reference:
    a damaged stream (cut short, bad checksum, bad deflate data, not gzip) is the same
    one-line error naming the file, never another exception, and rows read before the
    damage are not reported twice."""
    path = tmp_path / "in.csv.gz"
    path.write_bytes(_damaged(kind))
    for chunk_rows in (20_000, 200_000):
        fast = _outcome(path, reference=False, chunk_rows=chunk_rows)
        ref = _outcome(path, reference=True, chunk_rows=chunk_rows)
        _same(fast, ref)
        assert fast[0] == "error" and str(path) in str(fast[1])
