"""How a config reaches the program: ``--name=value`` flags and/or a ``config.json`` file.

Flags use the ``=`` form so that a value with spaces, quotes or a leading dash stays one
argument that argparse cannot mistake for an option: ``parser.add_argument("--lr",
type=float)`` accepts ``--lr=0.001`` exactly as it accepts ``--lr 0.001``.
"""

from __future__ import annotations

import json
import numbers
import re
from pathlib import Path
from typing import Any, Iterable, Mapping


def format_value(value: Any) -> str:
    """One flag value as text: str and int as is, floats ``repr``-exact (they parse back to
    the same float), bools ``true``/``false``, lists, dicts and None as JSON."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    if value is None or isinstance(value, (list, tuple, dict)):
        return to_json(value)
    return str(value)


#: A parameter name that ``--name=value`` passes through intact: ``k=v`` would become
#: ``--k=v=1`` (flag ``k``, value ``v=1``), ``--evil`` would become ``----evil=1``.
_FLAG_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")


def check_flag_names(names: Iterable[Any]) -> None:
    """Refuse parameter names that are not plain flag names, naming the first such one."""
    for name in names:
        if not isinstance(name, str) or not _FLAG_NAME.fullmatch(name):
            raise ValueError(
                f"parameter {name!r} cannot be passed as a --name=value flag: a name for args='flags' holds "
                "letters, digits and _ . - and starts with a letter, digit or _ (or use args='json')"
            )


def config_flags(config: Mapping[str, Any]) -> list[str]:
    check_flag_names(config)
    return [f"--{name}={format_value(value)}" for name, value in config.items()]


def to_json(value: Any, **options: Any) -> str:
    return json.dumps(value, default=_plain, **options)


def write_config(config: Mapping[str, Any], path: Path) -> Path:
    """Write ``config`` as JSON (written to a temporary name first, so a reader never sees
    half a file)."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(to_json(dict(config), indent=2) + "\n")
    partial.replace(path)
    return path


def _plain(value: Any) -> Any:
    """JSON fallback for numpy scalars and arrays, which configs may hold."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"config value {value!r} ({type(value).__name__}) cannot be written as JSON")
