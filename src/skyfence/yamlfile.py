"""The one way skyfence reads YAML (config, policy and scenario files), safely.

:func:`load_yaml` reads a file; :func:`parse_yaml` reads text. Both return a
:class:`YamlDocument`: the data (plain Python, PyYAML's safe types only) and a map
from each key path to its 1-based line, so a validator can name the line of every
problem (:func:`schema_problems` and :func:`pydantic_problems` do that for pydantic
models; the config, policy and scenario files are each validated that way).

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
from typing import Any, NoReturn, TypeVar, get_args

import yaml
from pydantic import BaseModel, ValidationError

from skyfence.errors import ConfigError
from skyfence.messages import one_line, show_value

__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "PLAIN_MESSAGES",
    "Problem",
    "YamlDocument",
    "dotted_path",
    "known_keys",
    "load_yaml",
    "parse_yaml",
    "pydantic_problems",
    "schema_problems",
]

MAX_YAML_BYTES = 4 * 1024 * 1024
MAX_YAML_NODES = 200_000
MAX_YAML_DEPTH = 64

KeyPath = tuple[Any, ...]
ErrorFactory = Callable[[str], ConfigError]

#: a pydantic model of a file of options
M = TypeVar("M", bound=BaseModel)


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


def _key_value(k: yaml.Node) -> Any:
    r"""A mapping key as the loaded document has it: ``7:`` is the int 7 and ``true:`` the
    bool True, as in the paths a schema's errors name (not the text ``"7"``); a key that
    is not a plain scalar (a list or a mapping as a key) by its node's identity.

    >>> [_key_value(k) for k, _ in yaml.compose("7: a\nyes: b\nname: c\n1.5: d").value]
    [7, True, 'name', 1.5]
    """
    if not isinstance(k, yaml.ScalarNode):
        return id(k)
    try:
        return yaml.SafeLoader("").construct_object(k)
    except (yaml.YAMLError, ValueError, OverflowError):
        return k.value


def _line_map(root: yaml.Node) -> dict[KeyPath, int]:
    """Key path -> 1-based line of every mapping key and sequence item."""
    lines: dict[KeyPath, int] = {}
    stack: list[tuple[yaml.Node, KeyPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*path, _key_value(k))
                lines.setdefault(key, k.start_mark.line + 1)
                stack.append((v, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                lines.setdefault((*path, i), v.start_mark.line + 1)
                stack.append((v, (*path, i)))
    return lines


#: Plain wording for pydantic's error types, as schema files show them (``{ge}`` etc.
#: are the error's context); a type not listed keeps pydantic's own message.
PLAIN_MESSAGES: Mapping[str, str] = {
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "finite_number": "must be a finite number",
    "greater_than_equal": "must be >= {ge}",
    "less_than_equal": "must be <= {le}",
    "greater_than": "must be > {gt}",
    "less_than": "must be < {lt}",
    "list_type": "must be a list",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "missing": "missing (required)",
    "too_short": "needs at least {min_length} item(s)",
    "string_too_short": "must not be empty",
    "literal_error": "must be one of {expected}",
}


@dataclass(frozen=True)
class Problem:
    """One problem of a YAML document: the key path it is at and what is wrong.

    ``unknown_key`` is set when the problem is a key the schema does not know (``path``
    then ends with that key).
    """

    path: KeyPath
    message: str
    unknown_key: bool = False


def schema_problems(exc: Any, model: type[Any] | None = None,
                    messages: Mapping[str, str] | None = None) -> list[Problem]:
    """The errors of a pydantic ``ValidationError`` as :class:`Problem` items.

    ``model`` (the model validated) lets an unknown key name the keys allowed where it
    was found; ``messages`` (e.g. :data:`PLAIN_MESSAGES`) rewords errors by type. A
    value error raised by a validator keeps its own text.
    """
    out = []
    for e in exc.errors(include_url=False):
        loc = tuple(e.get("loc", ()))
        kind = str(e.get("type", ""))
        if kind == "extra_forbidden":
            allowed = known_keys(model, loc[:-1]) if model is not None else []
            hint = f" (known: {', '.join(allowed)})" if allowed else ""
            out.append(Problem(loc, f"unknown key '{loc[-1]}'{hint}", True))
            continue
        msg = str(e.get("msg", "invalid value"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        else:
            if messages and kind in messages:
                ctx = {k: (f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool)
                           else v) for k, v in (e.get("ctx") or {}).items()}
                msg = messages[kind].format(**ctx)
            if "input" in e and kind != "missing":
                msg = f"{msg[:1].lower()}{msg[1:]}, got {show_value(e['input'])}"
        out.append(Problem(loc, msg))
    return out


def known_keys(model: type[Any], path: Sequence[Any]) -> list[str]:
    """The keys the pydantic ``model`` allows at key path ``path`` (list indices skipped).

    >>> from skyfence.scenarios.schema import ScenarioModel
    >>> known_keys(ScenarioModel, ("aircraft", 3, "waypoints", 0))
    ['lat', 'lon', 'alt_m', 'time', 'speed_ms']
    """
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _inner_model(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def _inner_model(annotation: Any) -> Any:
    """The first pydantic model class inside a field's type (lists, unions, Annotated)."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def pydantic_problems(exc: Any, doc: YamlDocument, model: type[Any] | None = None
                      ) -> list[str]:
    """One line per error of a pydantic ``ValidationError``: ``file:line: key: problem``.

    Worded with :data:`PLAIN_MESSAGES`; ``model`` (the model validated) lets an unknown
    key name the keys allowed where it was found.
    """
    out = []
    for p in schema_problems(exc, model, PLAIN_MESSAGES):
        dotted = dotted_path(p.path[:-1] if p.unknown_key else p.path)
        label = f"{dotted}: " if dotted else ""
        out.append(f"{doc.where(p.path)}: {label}{p.message}")
    return out


def dotted_path(loc: Sequence[Any]) -> str:
    """A key path as an author writes it: ``("aircraft", 0, "lat")`` -> ``aircraft[0].lat``.

    >>> dotted_path(("aircraft", 0, "waypoints", 1, "lat"))
    'aircraft[0].waypoints[1].lat'
    """
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def raise_problems(problems: Sequence[str], error: ErrorFactory = ConfigError) -> NoReturn:
    """Raise the first problem, saying how many more there are (one line for the user)."""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise error(problems[0] + more)


def validate_options(doc: YamlDocument, model: type[M], error: ErrorFactory = ConfigError) -> M:
    """``doc``'s top level, a mapping of options, checked as ``model``.

    The one way every options file (scan config, serve config) is checked: a top level
    that is not a mapping, or any schema problem, is one ``error`` naming file and line.
    """
    if not isinstance(doc.data, dict):
        raise error(f"{doc.where(())}: expected a mapping of options at the top level "
                    f"(known: {', '.join(model.model_fields)})")
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise_problems(pydantic_problems(exc, doc, model), error)
