"""``dossier verify --log``: what the station log on disk must still show.

Bugs planted by hand (fourteenth session) that the dossier tests let through are pinned
here. References are computed with ``hashlib`` from RFC 6962's definitions
(``leaf = SHA-256(0x00 || data)``, ``node = SHA-256(0x01 || left || right)``), not with
:mod:`skyfence.evidence.merkle`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from skyfence.errors import DataError
from skyfence.evidence.keys import init_keys
from skyfence.evidence.log import StationLog
from skyfence.evidence.verify import Verification, _check_station_log


def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def test_a_later_entry_rewritten_under_a_signed_checkpoint_of_the_same_size_fails(
    tmp_path: Path,
) -> None:
    """The dossier was logged as entry 0 in the tree of 1. Later entries (1 and 2) are
    appended and signed; then entry 2's data is rewritten on disk, the checkpoint files
    left alone. The log still holds the dossier's entry, and its first entry still gives
    the dossier's root, and the newest checkpoint still counts 3 entries and is signed by
    the station: only its root, compared with the root of the entries on disk, shows the
    rewrite. Checking the size and the signature alone would call this log sound."""
    key = init_keys(tmp_path / "k")
    slog = StationLog(tmp_path / "log")
    data = [bytes([i]) * 32 for i in range(3)]
    for d in data:
        slog.append(d, key)
    leaf0 = _leaf(data[0])
    root1 = leaf0  # the tree of one leaf: its root is the leaf hash
    path = tmp_path / "log" / "entries.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[2])
    rec["data"] = (b"\x99" * 32).hex()
    lines[2] = json.dumps(rec, sort_keys=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    res = Verification(tmp_path)
    _check_station_log(slog, 0, 1, leaf0, root1, key.public, res)
    assert res.failures == [f"station log {slog.dir}: its newest checkpoint does not sign "
                            "its 3 entries"]

    # the same log untouched passes, and says so (the rule is not simply "fail")
    good = StationLog(tmp_path / "log2")
    for d in data:
        good.append(d, key)
    ok = Verification(tmp_path)
    _check_station_log(good, 0, 1, leaf0, root1, key.public, ok)
    assert ok.failures == []
    assert ok.notes == ["station log: holds the entry; its signed tree of 3 entries is "
                        "consistent with the dossier's tree of 1"]


def test_entries_appended_without_a_checkpoint_are_a_problem_and_stop_the_log(
    tmp_path: Path,
) -> None:
    """Two entries appended and signed, then a third written into ``entries.jsonl`` by
    hand (a well-formed line, index 2) with no checkpoint: the newest checkpoint signs 2
    entries, the log holds 3. That is reported (a log holding more than it signed is as
    wrong as one holding fewer), and the log refuses to append on top of it."""
    key = init_keys(tmp_path / "k")
    slog = StationLog(tmp_path / "log")
    for i in range(2):
        slog.append(bytes([i]) * 32, key)
    assert slog.problems() == []
    with open(tmp_path / "log" / "entries.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"index": 2, "data": (b"\x07" * 32).hex(), "logged_at": "",
                            "meta": {}}, sort_keys=True) + "\n")
    assert slog.problems() == ["the newest checkpoint signs 2 entries, the log holds 3"]
    with pytest.raises(DataError, match="signs 2 entries, the log holds 3"):
        slog.append(b"\x08" * 32, key)


def test_an_entry_missing_from_the_middle_of_the_log_is_named_by_its_line(
        tmp_path: Path) -> None:
    """Entries are numbered 0, 1, 2 in order; with the middle line deleted the second
    line holds entry 2 where entry 1 belongs: reading the log fails naming line 2 and
    both numbers (a gap is as wrong as a repeat; the leaves must be the ones the
    checkpoints signed, one after the other)."""
    key = init_keys(tmp_path / "k")
    slog = StationLog(tmp_path / "log")
    for i in range(3):
        slog.append(bytes([i]) * 32, key)
    path = tmp_path / "log" / "entries.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(lines[0] + lines[2], encoding="utf-8")
    with pytest.raises(DataError, match="line 2: entry index 2, expected 1"):
        slog.entries()
