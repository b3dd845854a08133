"""Schemathesis against `skyfence serve`'s own /openapi.json: generated requests (valid and
invalid) to every operation, as an admin, never get a 500, and every answer conforms to
the schema (body, status code, content type).

The event stream (an endless response) is left out: the browser test and
test_serve_stream read it.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service.conftest import Served

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


def operations(served: Served) -> list[Any]:
    schema = (schemathesis.openapi.from_asgi("/openapi.json", served.client.app)
              .exclude(path="/api/stream"))
    return [r.ok() for r in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error_and_no_schema_violation(served: Served, mode: GenerationMode) -> None:
    ops = operations(served)
    assert len(ops) == 28  # every route but the stream, one operation per method
    seen: dict[str, int] = {}

    def fuzz(op: Any) -> None:
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=10, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            r = case.call_and_validate(headers=served.as_role("admin"), checks=CHECKS)
            seen[op.label] = seen.get(op.label, 0) + 1
            assert r.status_code < 500

        run()

    impossible = set()
    for op in ops:
        try:
            fuzz(op)
        except Unsatisfiable:  # no input of this operation can break its schema
            impossible.add(op.label)
    doc = served.client.get("/openapi.json").json()
    no_input = {f"{m.upper()} {p}" for p, item in doc["paths"].items()
                for m, o in item.items() if not o.get("parameters") and not o.get("requestBody")}
    # only operations that take nothing, or any string at all (a dossier file's name: the
    # route itself refuses names that leave the folder, test_serve_api)
    assert impossible <= no_input | {"GET /api/dossiers/{name}"}
    assert set(seen) | impossible == {op.label for op in ops}  # every operation was called
