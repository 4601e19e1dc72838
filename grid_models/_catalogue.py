"""Equipment catalogue (设备型号库): Chinese conductors and transformers as pandapower std types.

The numbers live in ``data/catalogue.yaml`` with their source; this module reads them,
checks them, and registers them in a pandapower net so lines and transformers can be
created by name (``JKLYJ-240``, ``YJV22-3x300``, ``S13-M-400/10``, ``SZ13-63000/110``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import pandapower as pp
import yaml

from grid_models._errors import GridModelError

ConductorKind = Literal["overhead", "cable"]
TransformerRole = Literal["main", "distribution"]


class CatalogueError(GridModelError):
    """The equipment catalogue is malformed or a type name is not in it."""


@dataclass(frozen=True, slots=True)
class LineType:
    """A conductor type (导线/电缆型号) with per-km parameters at 20 °C and its nominal rating."""

    name: str
    kind: ConductorKind
    vn_kv: float
    r_ohm_per_km: float
    x_ohm_per_km: float
    c_nf_per_km: float
    max_i_ka: float
    source: str

    @property
    def cross_section_mm2(self) -> float:
        """Conductor cross-section (截面), mm², read from the type name."""
        return _cross_section_mm2(self.name)

    @property
    def pandapower_type(self) -> str:
        """pandapower's line ``type``: ``ol`` overhead, ``cs`` cable."""
        return "ol" if self.kind == "overhead" else "cs"

    def to_std_type(self) -> dict[str, Any]:
        return {
            "r_ohm_per_km": self.r_ohm_per_km,
            "x_ohm_per_km": self.x_ohm_per_km,
            "c_nf_per_km": self.c_nf_per_km,
            "max_i_ka": self.max_i_ka,
            "type": self.pandapower_type,
            "q_mm2": _cross_section_mm2(self.name),
            "alpha": 4.03e-3,
        }


@dataclass(frozen=True, slots=True)
class TransformerType:
    """A two-winding transformer type (变压器型号): rating, voltages and losses."""

    name: str
    role: TransformerRole
    insulation: Literal["oil", "dry"]
    sn_kva: float
    vn_hv_kv: float
    vn_lv_kv: float
    vk_percent: float
    pk_kw: float
    p0_kw: float
    i0_percent: float
    vector_group: str
    source: str

    @property
    def sn_mva(self) -> float:
        return self.sn_kva / 1000.0

    @property
    def vkr_percent(self) -> float:
        """Resistive short-circuit voltage: load loss over rating, in percent."""
        return 100.0 * self.pk_kw / self.sn_kva

    def to_std_type(self) -> dict[str, Any]:
        main = self.role == "main"
        return {
            "sn_mva": self.sn_mva,
            "vn_hv_kv": self.vn_hv_kv,
            "vn_lv_kv": self.vn_lv_kv,
            "vk_percent": self.vk_percent,
            "vkr_percent": self.vkr_percent,
            "pfe_kw": self.p0_kw,
            "i0_percent": self.i0_percent,
            "shift_degree": 330.0 if self.vector_group.endswith("11") else 0.0,
            "vector_group": self.vector_group,
            "tap_side": "hv",
            "tap_neutral": 0,
            "tap_min": -8 if main else -2,
            "tap_max": 8 if main else 2,
            "tap_step_percent": 1.25 if main else 2.5,
            "tap_step_degree": 0.0,
            "tap_changer_type": "Ratio",
        }


@dataclass(frozen=True, slots=True)
class Catalogue:
    """Every type the catalogue knows, by name."""

    version: str
    line_types: dict[str, LineType]
    transformer_types: dict[str, TransformerType]

    def line_type(self, name: str) -> LineType:
        try:
            return self.line_types[name]
        except KeyError:
            raise CatalogueError(f"line type {name!r} is not in the catalogue") from None

    def transformer_type(self, name: str) -> TransformerType:
        try:
            return self.transformer_types[name]
        except KeyError:
            raise CatalogueError(f"transformer type {name!r} is not in the catalogue") from None

    def distribution_transformer_for(
        self, sn_kva: float, insulation: Literal["oil", "dry"] = "oil"
    ) -> TransformerType:
        """The smallest distribution transformer of that insulation rated at least ``sn_kva``."""
        fits = sorted(
            (
                t
                for t in self.transformer_types.values()
                if t.role == "distribution" and t.insulation == insulation and t.sn_kva >= sn_kva
            ),
            key=lambda t: t.sn_kva,
        )
        if not fits:
            raise CatalogueError(
                f"no {insulation} distribution transformer of {sn_kva} kVA or more"
            )
        return fits[0]


def _cross_section_mm2(name: str) -> float:
    tail = name.rsplit("x", 1)[-1] if "x" in name else name.rsplit("-", 1)[-1]
    try:
        return float(tail)
    except ValueError:
        return float("nan")


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Read the packaged catalogue (cached: it never changes while the process runs)."""
    text = resources.files("grid_models").joinpath("data/catalogue.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    try:
        lines = {d["name"]: LineType(**d) for d in raw["line_types"]}
        trafos = {d["name"]: TransformerType(**d) for d in raw["transformer_types"]}
    except (KeyError, TypeError) as exc:
        raise CatalogueError(f"catalogue.yaml is malformed: {exc}") from exc
    return Catalogue(
        version=str(raw["catalogue_version"]), line_types=lines, transformer_types=trafos
    )


def register_std_types(net: pp.pandapowerNet) -> None:
    """Add every catalogue type to ``net``'s std types (existing names are overwritten)."""
    cat = load_catalogue()
    for lt in cat.line_types.values():
        pp.create_std_type(
            net, lt.to_std_type(), lt.name, element="line", overwrite=True, check_required=False
        )
    for tt in cat.transformer_types.values():
        pp.create_std_type(
            net, tt.to_std_type(), tt.name, element="trafo", overwrite=True, check_required=False
        )


def load_plan(network_id: str) -> list[dict[str, Any]]:
    """The grid plan (电网规划) shipped for a network: its planned projects, each with a
    calendar ``year`` (grid_models/data/plans/<id>.yaml); empty when none is shipped."""
    source = resources.files("grid_models").joinpath(f"data/plans/{network_id}.yaml")
    if not source.is_file():
        return []
    data = yaml.safe_load(source.read_text("utf-8")) or {}
    return [dict(p) for p in data.get("planned_projects", [])]
