"""Errors raised by :mod:`grid_models` and the findings that validation collects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One validation finding: what is wrong, where, and how bad.

    ``element`` names the table or derived element kind (``bus``, ``line``,
    ``trafo``, ``switch``, ``feeder``, ``bundle`` …); ``ids`` are the affected
    element ids in that table (pandapower indices, or file rows for a bundle).
    """

    code: str
    severity: Severity
    element: str
    ids: tuple[int | str, ...]
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "element": self.element,
            "ids": list(self.ids),
            "field": self.field,
            "message": self.message,
        }


class GridModelError(Exception):
    """Root of every error raised by grid_models."""


class UnknownNetworkSpecError(GridModelError):
    """The network spec names no builtin, SimBench code, pandapower function or file."""


@dataclass
class NetworkLoadError(GridModelError):
    """A network could not be loaded; ``problems`` lists every reason found."""

    spec: str
    problems: Sequence[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"cannot load network {self.spec!r}: {len(self.problems)} problem(s)"]
        lines += [f"  - [{p.code}] {p.element} {list(p.ids)}: {p.message}" for p in self.problems]
        return "\n".join(lines)


class BundleWriteError(GridModelError):
    """A net could not be written as a bundle (bad format name, unsupported column, …)."""


class GeneratorParameterError(GridModelError):
    """A network-generator parameter is out of its allowed range."""
