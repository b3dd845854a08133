"""Fixtures of the serve tests: a server over a replayed incursion, users and tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.serve_helpers import crossing_csv, write_config

PASSWORDS = {"ada": "admin-password-1", "olga": "operator-pass-1", "vik": "viewer-pass-01"}
ROLES = {"ada": "admin", "olga": "operator", "vik": "viewer"}


@dataclass
class Served:
    """A server state after the replay ended, a test client, and tokens by role."""

    state: Any
    client: Any
    tokens: dict[str, str]
    tmp: Path

    def as_role(self, role: str) -> dict[str, str]:
        """Headers authenticating as an API token of ``role``."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def login(self, name: str) -> Any:
        """Log ``name`` in on the test client (the cookie stays on it)."""
        r = self.client.post("/api/auth/login",
                             data={"username": name, "password": PASSWORDS[name]})
        assert r.status_code == 200, r.text
        return r


def serve_state(tmp: Path, **config: Any) -> Any:
    """The state ``skyfence serve`` builds for a replay of the crossing (as fast as
    possible) with users ada (admin), olga (operator), vik (viewer)."""
    from skyfence.service import auth
    from skyfence.service.config import load_serve_config
    from skyfence.service.serve import build_state

    csv = crossing_csv(tmp / "crossing.csv")
    cfg = load_serve_config(write_config(tmp, csv, **config))
    import io

    state = build_state(cfg, out=io.StringIO())
    for name, pw in PASSWORDS.items():
        auth.add_user(state.store, name, pw, ROLES[name], "test")
    state.setup_token = None
    return state


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server whose replay has run to its end (the store holds the incursion)."""
    from fastapi.testclient import TestClient

    from skyfence.service import auth
    from skyfence.service.app import create_app

    tmp = tmp_path_factory.mktemp("serve")
    state = serve_state(tmp)
    tokens = {role: auth.create_token(state.store, f"t-{role}", role, "test")
              for role in ("viewer", "operator", "admin")}
    # https: the session cookie is Secure, and a client sends it only over https
    with TestClient(create_app(state), base_url="https://testserver") as client:
        assert state.thread is not None
        state.thread.join(60)
        assert not state.thread.is_alive(), "the replay did not end"
        yield Served(state, client, tokens, tmp)
