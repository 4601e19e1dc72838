"""The rules file (规则库): policy numbers and estimates in one versioned, replaceable YAML."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from grid_models._errors import GridModelError

RULES_ENV = "GRIDCAP_RULES"


class RulesError(GridModelError):
    """The rules file is missing, not YAML, or lacks a value the code asked for."""


@dataclass(frozen=True)
class Rules:
    """A parsed rules file: its version, where it came from, and its values."""

    version: str
    source: str
    data: dict[str, Any]

    def get(self, dotted: str) -> Any:
        """The value at a dotted path, e.g. ``network_defaults.bays_total.ring_main_unit``."""
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise RulesError(f"rules file {self.source} has no value at {dotted!r}")
            node = node[part]
        return node


class _StrictLoader(yaml.SafeLoader):
    """YAML without duplicate keys: a key given twice is an error, not the last one winning
    (a utility's edited rules file must say one thing)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _parse(text: str, source: str) -> Rules:
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        raise RulesError(f"rules file {source} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or "rules_version" not in data:
        raise RulesError(f"rules file {source} has no rules_version")
    return Rules(version=str(data["rules_version"]), source=source, data=data)


@lru_cache(maxsize=8)
def _load_cached(path: str | None) -> Rules:
    if path is None:
        text = resources.files("grid_models").joinpath("data/rules.yaml").read_text("utf-8")
        return _parse(text, "builtin rules.yaml")
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise RulesError(f"cannot read rules file {path}: {exc.strerror}") from exc
    return _parse(text, path)


def load_rules(path: str | Path | None = None) -> Rules:
    """The rules in force: ``path``, else ``$GRIDCAP_RULES``, else the packaged file."""
    chosen = path if path is not None else os.environ.get(RULES_ENV)
    return _load_cached(str(chosen) if chosen is not None else None)
