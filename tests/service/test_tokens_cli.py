"""`skyfence tokens create` prints the token alone on a line of its own.

Scripts read the token from standard output (``TOKEN=$(skyfence tokens create ...)``);
a person or a log that merges both streams must see the token on its own line, then
the note. Python buffers a piped stdout: unless the token is flushed before the note
is written to stderr, a merged stream shows the note first and the token last.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def run(*argv: str, merge: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHONPATH"] = SRC
    return subprocess.run([sys.executable, "-m", "skyfence.cli", *argv], text=True,
                          env=env, timeout=60, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT if merge else subprocess.PIPE)


def test_the_token_is_one_line_of_stdout_and_authenticates(tmp_path: Path) -> None:
    store = str(tmp_path / "s.sqlite")
    made = run("tokens", "create", "radar-bridge", "--role", "operator", "--store", store)
    assert made.returncode == 0, made.stderr
    assert made.stdout.endswith("\n") and made.stdout.count("\n") == 1, repr(made.stdout)
    token = made.stdout[:-1]
    assert token.startswith("sft_") and " " not in token
    assert "radar-bridge (operator) created" in made.stderr
    from skyfence.incidents.store import IncidentStore
    from skyfence.service.auth import token_identity

    with IncidentStore.open(store) as s:
        who = token_identity(s, token)
    assert who is not None and who.role == "operator"


def test_merged_streams_show_the_token_line_first_then_the_note(tmp_path: Path) -> None:
    made = run("tokens", "create", "bot", "--store", str(tmp_path / "s.sqlite"), merge=True)
    assert made.returncode == 0, made.stdout
    lines = made.stdout.split("\n")
    assert lines[0].startswith("sft_") and len(lines[0].split()) == 1, made.stdout
    assert lines[1].startswith("token bot (viewer) created") and lines[2:] == [""], made.stdout
