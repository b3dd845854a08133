"""The command line answers without loading what its command does not need.

Every ``skyfence`` command builds the whole parser first. When the evidence commands'
package imported the dossier builder (matplotlib, the PDF writer) at import time, even
``skyfence --version`` took 3.6 s on the project's 2-core machine; the imports are now
made by the command that needs them.
"""

from __future__ import annotations

import subprocess
import sys

#: packages that take a second or more to import and that parsing never needs
HEAVY = ("matplotlib", "pandas", "scipy", "shapely", "pyproj", "pyarrow", "fontTools",
         "reportlab", "pydantic")


def test_parsing_the_command_line_imports_no_heavy_package() -> None:
    """A fresh interpreter builds the parser and parses ``--version``-free arguments of
    several commands; the modules it loaded are then listed by ``sys.modules``."""
    code = (
        "import sys\n"
        "from skyfence.cli import build_parser\n"
        "p = build_parser()\n"
        "for argv in (['scan', 'x.csv', '--zone', 'EST'], ['dossier', 'verify', 'd'],\n"
        "             ['watch', '--zone', 'EST']):\n"
        "    try:\n"
        "        p.parse_args(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert "skyfence" in out
    assert [m for m in HEAVY if m in out] == []


def test_the_evidence_package_still_offers_its_names() -> None:
    """The names the package exports are imported on first use, and a wrong name is an
    AttributeError as for any module."""
    import pytest

    import skyfence.evidence as evidence
    from skyfence.evidence.dossier import build_dossier

    assert evidence.build_dossier is build_dossier
    assert {n: getattr(evidence, n).__name__ for n in evidence.__all__} == {
        n: n for n in evidence.__all__}
    with pytest.raises(AttributeError, match="no_such_name"):
        evidence.no_such_name  # noqa: B018
