"""What an added load must respect: the hosting-capacity criteria (接入校验条件)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from capacity._errors import CriteriaError
from grid_models import Rules, load_rules


@dataclass(frozen=True, slots=True)
class HostingCriteria:
    """Limits for the AC power-flow capacity search; defaults come from the rules file.

    ``vm_min_pu``/``vm_max_pu`` bound every bus of the MV level (1 kV < vn < 30 kV by the
    rules file), ``lv_vm_min_pu``/``lv_vm_max_pu`` every LV bus (≤ 1 kV) when the candidate
    bus is itself on the LV level. The added load is
    ``p_mw`` at ``power_factor`` lagging; ``generation`` False takes static generators out
    of service (the worst case for load).
    """

    line_loading_max_percent: float = 100.0
    trafo_loading_max_percent: float = 100.0
    vm_min_pu: float = 0.93
    vm_max_pu: float = 1.07
    lv_vm_min_pu: float = 0.90
    lv_vm_max_pu: float = 1.07
    power_factor: float = 0.95
    generation: bool = True
    search_cap_mw: float = 30.0
    resolution_mw: float = 0.001

    def __post_init__(self) -> None:
        checks = {
            "line_loading_max_percent": 0 < self.line_loading_max_percent <= 1000,
            "trafo_loading_max_percent": 0 < self.trafo_loading_max_percent <= 1000,
            "vm_min_pu": 0.5 <= self.vm_min_pu < self.vm_max_pu,
            "vm_max_pu": self.vm_max_pu <= 1.5,
            "lv_vm_min_pu": 0.5 <= self.lv_vm_min_pu < self.lv_vm_max_pu,
            "lv_vm_max_pu": self.lv_vm_max_pu <= 1.5,
            "power_factor": 0 < self.power_factor <= 1,
            "search_cap_mw": 0 < self.search_cap_mw <= 10_000,
            "resolution_mw": 0 < self.resolution_mw < self.search_cap_mw,
        }
        for name, ok in checks.items():
            if not ok:
                raise CriteriaError(f"{name}={getattr(self, name)!r} is out of range")

    @property
    def q_per_p(self) -> float:
        """Reactive power per unit of active power of the added load (lagging)."""
        return math.tan(math.acos(self.power_factor))

    @classmethod
    def from_rules(cls, rules: Rules | None = None, **overrides: object) -> HostingCriteria:
        """Defaults from ``capacity.hosting`` in the rules file, then ``overrides``."""
        rules = rules or load_rules()
        values = dict(rules.get("capacity.hosting"))
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except TypeError as exc:
            raise CriteriaError(f"capacity.hosting in the rules file: {exc}") from exc
