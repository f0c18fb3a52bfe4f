"""Reading a spec file: its data (``yaml.safe_load``) and the line of every field.

``yaml.safe_load`` drops positions, so the text is also composed into YAML nodes, whose
marks give each field's line. Lines are keyed by field path: a tuple of mapping keys
(strings) and sequence indices (ints), e.g. ``("budget", "max_trials")``. Composing also
catches duplicate keys, which ``safe_load`` would silently resolve to the last one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ._errors import SpecError

FieldPath = tuple[Any, ...]

#: At most this many nodes once every alias is expanded. A spec is tens of nodes; a
#: "billion laughs" document of a few hundred bytes, whose aliases refer to aliases,
#: expands to billions, which would exhaust memory in whatever walks or stores it.
MAX_EXPANDED_NODES = 100_000


def read_spec_file(path: str | os.PathLike) -> tuple[Any, dict[FieldPath, int]]:
    """The parsed YAML of ``path`` and a map of field path to 1-based line number."""
    file = os.fspath(path)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such spec file", file) from None
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"cannot read the spec file: {err}", file) from None
    return parse_yaml(text, file)


def parse_yaml(text: str, file: str) -> tuple[Any, dict[FieldPath, int]]:
    """``text`` parsed with ``yaml.safe_load``, and the lines of its fields."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            _check_expansion(root, file)  # before anything walks the tree
        data = yaml.safe_load(text)
    except RecursionError:
        raise SpecError("not valid YAML: nested too deeply", file) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = None if mark is None else mark.line + 1
        reason = err.problem or "invalid syntax"
        if err.context:
            where = f" at line {err.context_mark.line + 1}" if err.context_mark is not None else ""
            reason = f"{reason} ({err.context}{where})"
        raise SpecError(f"not valid YAML: {reason}", file, line=line) from None
    except yaml.YAMLError as err:
        raise SpecError(f"not valid YAML: {err}", file) from None
    lines: dict[FieldPath, int] = {}
    if root is not None:
        _collect(root, (), lines, file)
    return data, lines


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Refuse a document whose aliases expand past :data:`MAX_EXPANDED_NODES` nodes, or
    that refers to itself, naming the line of the smallest part that is too big.

    Each distinct node is sized once (aliases share the node they refer to), so this takes
    time linear in the document's text however far it would expand.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not children_done:
            if key in open_nodes:
                continue  # already waiting for its children: a second reference, sized then
            open_nodes.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in open_nodes and id(child) not in sizes:
                    raise SpecError("not valid YAML: an alias refers to a node that contains it (a recursive "
                                    "structure)", file, line=child.start_mark.line + 1)
                stack.append((child, False))
            continue
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > MAX_EXPANDED_NODES:
            raise SpecError(
                f"not valid YAML: its aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?); "
                "write the values out or use fewer nested aliases", file, line=node.start_mark.line + 1,
            )
        sizes[key] = size
        open_nodes.discard(key)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _collect(node: yaml.Node, path: FieldPath, lines: dict[FieldPath, int], file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue  # complex keys and merge keys: left to the checks on the data
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                field = ".".join(str(part) for part in (*path, key))
                raise SpecError(f"duplicate key {key!r}", file, field, line)
            seen.add(key)
            key_path: FieldPath = path + (key,)
            lines[key_path] = line
            _collect(value_node, key_path, lines, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            item_path: FieldPath = path + (index,)
            lines[item_path] = item.start_mark.line + 1
            _collect(item, item_path, lines, file)
