"""Pickling the objective for worker processes so that its tracebacks name the user's code.

cloudpickle sends functions defined in ``__main__`` or a notebook by value, and (since 3.0)
writes every code object's file name as ``<dynamic-code>``, so a failing trial's traceback
pointed nowhere. :func:`dumps_objective` keeps each code object's real file name, and for
files that do not exist on disk (notebook cells, whose source lives only in the kernel's
``linecache``) it sends their source lines along: unpickling puts them into the worker's
``linecache``, so tracebacks show the line itself too.
"""

from __future__ import annotations

import io
import linecache
import os
import types
from collections import ChainMap
from typing import Any

import cloudpickle

_PLACEHOLDER = "<dynamic-code>"


def restore_sources(objective: Any, sources: dict[str, list[str]]) -> Any:
    """Unpickling side: register ``sources`` (file name -> lines) with ``linecache`` unless
    the file is readable here, and return ``objective``."""
    for filename, lines in sources.items():
        if not os.path.exists(filename):
            linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)
    return objective


class _WithSources:
    """The objective and the notebook source its code comes from, restored together."""

    def __init__(self, objective: Any, sources: dict[str, list[str]]) -> None:
        self.objective, self.sources = objective, sources

    def __reduce__(self) -> tuple[Any, ...]:
        return restore_sources, (self.objective, self.sources)


class _Pickler(cloudpickle.Pickler):
    """cloudpickle, with code objects keeping their file names (collected in ``filenames``)."""

    def __init__(self, file: io.BytesIO) -> None:
        self.filenames: set[str] = set()
        # The C pickler reads dispatch_table when it is initialised: set it first.
        self.dispatch_table = ChainMap({types.CodeType: self._reduce_code}, cloudpickle.Pickler.dispatch_table)
        super().__init__(file)

    def _reduce_code(self, code: types.CodeType) -> Any:
        constructor, args = cloudpickle.Pickler.dispatch_table[types.CodeType](code)
        self.filenames.add(code.co_filename)
        args = tuple(code.co_filename if arg is _PLACEHOLDER or arg == _PLACEHOLDER else arg for arg in args)
        return constructor, args


def _dump(obj: Any) -> tuple[bytes, set[str]]:
    with io.BytesIO() as file:
        pickler = _Pickler(file)
        pickler.dump(obj)
        return file.getvalue(), pickler.filenames


def dumps_objective(objective: Any) -> bytes:
    """``objective`` pickled by value where needed (cloudpickle), with the file names of its
    code kept and the source of code from files that do not exist on disk included."""
    payload, filenames = _dump(objective)
    sources = {
        name: lines
        for name in sorted(filenames)
        if not os.path.exists(name) and (lines := linecache.getlines(name))
    }
    if not sources:
        return payload
    return _dump(_WithSources(objective, sources))[0]
