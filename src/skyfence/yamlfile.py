"""The one way skyfence reads YAML (config, policy and scenario files), safely.

:func:`load_yaml` reads a file; :func:`parse_yaml` reads text. Both return a
:class:`YamlDocument`: the data (plain Python, PyYAML's safe types only) and a map
from each key path to its 1-based line, so a validator can name the line of every
problem (:func:`pydantic_problems` does that for pydantic models).

Limits, so that a small hostile file cannot exhaust the machine:

- at most :data:`MAX_YAML_BYTES` of text;
- at most :data:`MAX_YAML_NODES` values once aliases are expanded. YAML anchors and
  aliases share one node, so ten nested levels of ten aliases ("billion laughs") is
  a 1 KB file that expands to 10^10 values. The expanded size is counted on the
  node graph *before* anything is built (each shared node is counted once per use
  without being copied), and a document over the limit is refused;
- recursive aliases (a node containing itself) and nesting deeper than
  :data:`MAX_YAML_DEPTH` levels are refused.

Every problem is a :class:`~skyfence.errors.ConfigError` (or the subclass the caller
passes) with a one-line message naming the file and, when known, the line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skyfence.errors import ConfigError
from skyfence.messages import one_line, show_value

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "YamlDocument",
    "load_yaml",
    "parse_yaml",
    "pydantic_problems",
]

MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 64

KeyPath = tuple[Any, ...]
ErrorFactory = Callable[[str], ConfigError]


@dataclass
class YamlDocument:
    """A parsed YAML document and the line of each key path (``("rules", 0, "when")``)."""

    data: Any
    source: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[Any]) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        for k in range(len(p), -1, -1):
            line = self.lines.get(p[:k])
            if line is not None:
                return line
        return None

    def where(self, path: Sequence[Any]) -> str:
        """``file:line`` of ``path`` (``file`` alone when no line is known)."""
        line = self.line_of(path)
        return f"{self.source}:{line}" if line is not None else self.source


def load_yaml(
    path: str | Path, *, what: str = "YAML file", error: ErrorFactory = ConfigError,
    allow_empty: bool = False,
) -> YamlDocument:
    """Read and parse a YAML file; ``what`` names it in messages ("policy file")."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_YAML_BYTES:
            raise error(f"{p}: the {what} is {size:,} bytes; at most {MAX_YAML_BYTES:,} "
                        "are read")
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{p}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{p}: is a directory, not a {what}") from None
    except UnicodeDecodeError:
        raise error(f"{p}: the {what} is not UTF-8 text") from None
    except OSError as exc:
        raise error(f"{p}: cannot read the {what} ({exc.strerror})") from None
    return parse_yaml(text, str(p), what=what, error=error, allow_empty=allow_empty)


def parse_yaml(
    text: str, source: str, *, what: str = "YAML file", error: ErrorFactory = ConfigError,
    allow_empty: bool = False,
) -> YamlDocument:
    """Parse YAML text with the limits of this module (``source`` names it in messages)."""
    if len(text) > MAX_YAML_BYTES:
        raise error(f"{source}: the {what} is longer than {MAX_YAML_BYTES:,} characters")
    loader: yaml.SafeLoader | None = None
    try:
        # the reader refuses control characters already here, in the constructor
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            if allow_empty:
                return YamlDocument(None, source)
            raise error(f"{source}: the {what} is empty")
        _check_size(node, source, what, error)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(f"{where}: not valid YAML ({one_line(str(problem), 120)})") from None
    except RecursionError:
        raise error(f"{source}: the {what} is nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. an impossible date
        raise error(f"{source}: not valid YAML ({one_line(str(exc), 120)})") from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(data, source, _line_map(node))


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield k
            yield v
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _check_size(root: yaml.Node, source: str, what: str, error: ErrorFactory) -> None:
    """Refuse a node graph that expands to too many values, recurses or nests too deep."""
    size: dict[int, int] = {}
    open_: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, closing = stack.pop()
        nid = id(node)
        if closing:
            open_.discard(nid)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > MAX_YAML_NODES:
                raise error(f"{source}:{node.start_mark.line + 1}: the {what} expands to more "
                            f"than {MAX_YAML_NODES:,} values (nested aliases?)")
            size[nid] = total
            continue
        if nid in size:
            continue
        if depth > MAX_YAML_DEPTH:
            raise error(f"{source}:{node.start_mark.line + 1}: the {what} is nested more "
                        f"than {MAX_YAML_DEPTH} levels deep")
        open_.add(nid)
        stack.append((node, depth, True))
        for c in _children(node):
            if id(c) in open_:
                raise error(f"{source}:{c.start_mark.line + 1}: a recursive alias (a value "
                            "that contains itself)")
            if id(c) not in size:
                stack.append((c, depth + 1, False))


def _line_map(root: yaml.Node) -> dict[KeyPath, int]:
    """Key path -> 1-based line of every mapping key and sequence item."""
    lines: dict[KeyPath, int] = {}
    stack: list[tuple[yaml.Node, KeyPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*path, k.value if isinstance(k, yaml.ScalarNode) else id(k))
                lines.setdefault(key, k.start_mark.line + 1)
                stack.append((v, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                lines.setdefault((*path, i), v.start_mark.line + 1)
                stack.append((v, (*path, i)))
    return lines


def pydantic_problems(exc: Any, doc: YamlDocument, known: Mapping[str, Sequence[str]] = {}
                      ) -> list[str]:
    """One line per error of a pydantic ``ValidationError``: ``file:line: key: problem``.

    ``known`` maps a key path (dotted, ``""`` for the top level) to its allowed keys,
    named when an unknown key is found.
    """
    out = []
    for e in exc.errors(include_url=False):
        loc = tuple(e.get("loc", ()))
        dotted = _dotted(loc)
        if e.get("type") == "extra_forbidden":
            parent = _dotted(loc[:-1])
            allowed = known.get(parent)
            hint = f" (known: {', '.join(allowed)})" if allowed else ""
            msg = f"unknown key '{loc[-1]}'{hint}"
            dotted = parent
        else:
            msg = str(e.get("msg", "invalid value"))
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            elif "input" in e and e.get("type") != "missing":
                msg = f"{msg[:1].lower()}{msg[1:]}, got {show_value(e['input'])}"
        label = f"{dotted}: " if dotted else ""
        out.append(f"{doc.where(loc)}: {label}{msg}")
    return out


def _dotted(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
