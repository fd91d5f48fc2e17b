"""YAML read with limits, for files that may come from anyone (scenario uploads included).

PyYAML's safe loader builds no objects, but it still follows aliases (a
"billion laughs" file of a few hundred bytes expands to billions of nodes when
validated), recurses once per level of nesting, and keeps the last of two equal
keys in silence. Scenario and route files need none of that, so this loader
refuses aliases and duplicate keys and bounds size, depth and node count.

>>> load("a: 1\\nb: [x, y]", "example.yaml")
{'a': 1, 'b': ['x', 'y']}
>>> load("a: &x [1]\\nb: *x", "example.yaml")
Traceback (most recent call last):
refuge.errors.DataError: example.yaml: YAML anchors and aliases (& and *) are not allowed, at line 2
"""

from __future__ import annotations

import re

import yaml

from .errors import DataError, RefugeError

#: the largest file read, in bytes
MAX_BYTES = 64 * 1024
#: the deepest nesting of lists and mappings
MAX_DEPTH = 16
#: the most values (scalars, lists, mappings) in one file
MAX_NODES = 4_000


def read(path, label: str, error: type[RefugeError] = DataError) -> str:
    """The text of ``path``, refused if it is larger than :data:`MAX_BYTES` or not UTF-8."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as err:
        raise error(f"{label}: cannot be read ({err.strerror})") from None
    if len(data) > MAX_BYTES:
        raise error(f"{label}: larger than {MAX_BYTES // 1024} KiB; a scenario or route file is a few lines")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"{label}: not UTF-8 text (byte {err.start})") from None


def load(text: str, label: str, error: type[RefugeError] = DataError):
    """Parse YAML ``text`` within the limits; raise ``error`` naming ``label`` and the line."""
    if len(text) > MAX_BYTES:
        raise error(f"{label}: larger than {MAX_BYTES // 1024} KiB; a scenario or route file is a few lines")
    loader = None
    try:
        loader = _Loader(text)
        return loader.get_single_data()
    except _Refused as err:
        raise error(f"{label}: {err.args[0]}") from None
    except yaml.YAMLError as err:
        raise error(f"{label}: not valid YAML{_where(err)}: {getattr(err, 'problem', None) or err}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as err:
        raise error(f"{label}: cannot be read as YAML ({type(err).__name__})") from None
    finally:
        if loader is not None:
            loader.dispose()


def _where(err: yaml.YAMLError) -> str:
    problem, context = getattr(err, "problem_mark", None), getattr(err, "context_mark", None)
    if problem is None:
        return ""
    text = f" at line {problem.line + 1}"
    if context is not None and context.line != problem.line:
        what = getattr(err, "context", None) or "it"
        text += f" ({what} started at line {context.line + 1}; check for an unclosed quote or bracket there)"
    return text


class _Refused(Exception):
    pass


class _Loader(yaml.SafeLoader):
    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            line = self.peek_event().start_mark.line + 1
            raise _Refused(f"YAML anchors and aliases (& and *) are not allowed, at line {line}")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(f"more than {MAX_NODES:,} values; a scenario or route file is a few lines")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep, at line {line}")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(f"merge keys (<<) are not allowed, at line {key_node.start_mark.line + 1}")
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                raise _Refused(f"a key that is a list or mapping, at line {key_node.start_mark.line + 1}") from None
            if duplicate:
                raise _Refused(f"the key {str(key)[:40]!r} appears twice, at line {key_node.start_mark.line + 1}")
        return super().construct_mapping(node, deep=deep)

    def construct_text(self, node):
        """A date stays text (``2027-03``, ``2027-02-30``): whoever reads the field checks it and names the field,
        where YAML's own dates fail on an impossible day without saying which."""
        return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_text)
# YAML 1.1 reads 1e-4 and 1e3 as text (its floats need a dot and a signed exponent); YAML 1.2, and every
# reader of a parameter file, takes them for numbers
_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
                              list("-+0123456789."))  # fmt: skip
