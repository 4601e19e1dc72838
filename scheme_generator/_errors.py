"""Errors raised by :mod:`scheme_generator`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SchemeError(Exception):
    """Root of every error raised by scheme_generator."""


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One invalid field of an application and why (``location.lat``: "must be …")."""

    field: str
    reason: str


class InvalidApplicationError(SchemeError):
    """The application has invalid fields; ``problems`` names each field and the reason."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.field}: {p.reason}" for p in self.problems))
