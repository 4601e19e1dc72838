"""N-1 transfer (N-1 转供校验): if a feeder's bay is lost, can one of its ties carry its load?

For each feeder with ties, its head line (the substation bay's outgoing line) is taken out
and each tie is closed in turn; pandapower's AC power flow gives the restored network, and
from that one solution come both the margin and the verdict:

- ``TieTransfer.margin_kva``: how much more load (kVA) the restored supply could take before
  its tightest limit — each line of the two feeders and the tie at the line loading limit
  of its seasonal rating, each main transformer feeding the partner at the transformer
  loading limit, each bus of the two feeders in its voltage band (first order: drops from
  the partner's bus section scale with the load it carries); −∞ when the power flow does
  not converge. ``ok`` ⇔ ``margin_kva ≥ 0``.
- ``FeederTransfer.margin_kva``: the best tie's margin (−∞ with no tie); ``transferable`` ⇔
  ``margin_kva ≥ 0`` — the feeder's whole load moves through one tie and everything stays
  within limits.

The loading is the rule-based engine's (:func:`capacity.rule_capacity`): every load at the
time step where the feeder's C1 binds (its ``peak_at``), lines rated with that season's
factors, and ``load_kva`` the load C1 was taken from. ``n1_secure`` and ``c1_kva`` are read
from there, not recomputed: they are the utility's N-1 rule (λ by wiring mode), while
``transferable`` is the AC check of one outage with the actual partners — the two answer
different questions and may differ (docs/capacity.md, "N-1 figures").
"""

from __future__ import annotations

import copy
import math
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandapower as pp
from scipy.sparse.linalg import MatrixRankWarning

from capacity._criteria import HostingCriteria
from capacity._hosting import bus_levels
from capacity._loads import load_profiles
from capacity._rules_based import RuleCapacity, line_rating_factors, rule_capacity
from capacity._timeseries import net_at
from grid_models import GridModel, Rules, load_rules

_SQRT3 = math.sqrt(3.0)
#: below this drop (pu) a bus's voltage is taken as not moving with the load
_MIN_DROP_PU = 1e-3


def _finite(x: float, digits: int) -> float | None:
    return round(x, digits) if math.isfinite(x) else None


@dataclass(frozen=True, slots=True)
class TieTransfer:
    """One tie closed to carry a feeder's whole load after its bay (head line) is lost.

    ``margin_kva``: the least spare over every limit the check applies (module docstring),
    ``limiting`` what sets it (``line:<index>``, ``trafo:<index>``, ``vm:<bus>`` or
    ``nonconvergence``); ``ok`` ⇔ ``margin_kva ≥ 0``, by construction.
    """

    tie_id: str
    partner_id: str | None
    converged: bool
    max_loading_percent: float
    min_vm_pu: float
    margin_kva: float
    limiting: str

    @property
    def ok(self) -> bool:
        """The restored supply is within every limit: the margin is not negative."""
        return self.margin_kva >= 0


@dataclass(frozen=True, slots=True)
class FeederTransfer:
    """A feeder's N-1 transfer check: every tie tried, the best one kept.

    ``load_kva``, ``at``, ``c1_kva`` and ``n1_secure`` are the rule-based figures of the
    feeder (read, not recomputed); ``margin_kva`` is the best tie's margin (−∞ with no tie)
    and ``transferable`` ⇔ ``margin_kva ≥ 0``, by construction.
    """

    feeder_id: str
    name: str
    wiring_mode: str
    at: str
    load_kva: float
    c1_kva: float
    n1_secure: bool
    ties: tuple[TieTransfer, ...]
    margin_kva: float
    best_tie_id: str | None

    @property
    def transferable(self) -> bool:
        """The feeder's whole load moves through one of its ties within every limit."""
        return self.margin_kva >= 0

    def to_dict(self) -> dict[str, object]:
        return {
            "feeder_id": self.feeder_id,
            "name": self.name,
            "wiring_mode": self.wiring_mode,
            "at": self.at,
            "load_kva": round(self.load_kva, 1),
            "c1_kva": round(self.c1_kva, 1),
            "n1_secure": self.n1_secure,
            "transferable": self.transferable,
            "margin_kva": _finite(self.margin_kva, 1),
            "best_tie_id": self.best_tie_id,
            "ties": [
                {
                    "tie_id": t.tie_id,
                    "partner_id": t.partner_id,
                    "ok": t.ok,
                    "converged": t.converged,
                    "limiting": t.limiting,
                    "max_loading_percent": _finite(t.max_loading_percent, 1),
                    "min_vm_pu": _finite(t.min_vm_pu, 4),
                    "margin_kva": _finite(t.margin_kva, 1),
                }
                for t in self.ties
            ],
        }


def n1_transfer(
    model: GridModel,
    criteria: HostingCriteria,
    *,
    rules: Rules | None = None,
    rule_cap: RuleCapacity | None = None,
) -> list[FeederTransfer]:
    """Check every feeder's transfer through each of its ties (one AC power flow per tie),
    at the loading of the rule-based figures (``rule_cap``, computed when not given: it
    must be of this ``model`` and without projects)."""
    rules = rules or load_rules()
    profiles = load_profiles(model.net, rules)
    rc = rule_cap or rule_capacity(model, rules=rules, profiles=profiles)
    assert rc.seasons is not None
    base = copy.deepcopy(model.net)
    if not criteria.generation and len(base.sgen):
        base.sgen["in_service"] = False
    levels = bus_levels(base, rules)
    lo = np.where(
        levels == "mv", criteria.vm_min_pu, np.where(levels == "lv", criteria.lv_vm_min_pu, -np.inf)
    )
    hi = np.where(
        levels == "mv", criteria.vm_max_pu, np.where(levels == "lv", criteria.lv_vm_max_pu, np.inf)
    )
    step_of = {label: k for k, label in enumerate(profiles.label)}
    by_step: dict[int, list[str]] = defaultdict(list)
    for fd in model.feeders.values():
        by_step[step_of.get(rc.elements[fd.id].peak_at, 0)].append(fd.id)
    found: dict[str, FeederTransfer] = {}
    cap_rules = rules.get("capacity")
    for step, feeder_ids in sorted(by_step.items()):
        state = net_at(base, profiles, step) if profiles.p_prof.shape[1] > 1 else base
        line_limit = criteria.line_loading_max_percent * line_rating_factors(
            state, cap_rules, str(profiles.season[step])
        )
        for fid in feeder_ids:
            fd = model.feeders[fid]
            results = tuple(
                _try_tie(state, model, fid, tie_id, criteria, line_limit, lo, hi)
                for tie_id in fd.tie_ids
            )
            best = max(results, key=lambda t: t.margin_kva, default=None)
            margin = best.margin_kva if best is not None else -math.inf
            e = rc.elements[fid]
            found[fid] = FeederTransfer(
                feeder_id=fid,
                name=fd.name,
                wiring_mode=fd.wiring_mode,
                at=e.peak_at,
                load_kva=rc.seasons.binding_load_kva(fid, e.rating_kva),
                c1_kva=e.c1_kva,
                n1_secure=e.n1_secure,
                ties=results,
                margin_kva=margin,
                best_tie_id=best.tie_id if best is not None and margin >= 0 else None,
            )
    return [found[fid] for fid in model.feeders]


def _partner_of(model: GridModel, tie_id: str, feeder_id: str) -> str | None:
    tie = model.tie_switches[tie_id]
    return tie.side_b if tie.side_a == feeder_id else tie.side_a


def _try_tie(
    base: pp.pandapowerNet,
    model: GridModel,
    feeder_id: str,
    tie_id: str,
    criteria: HostingCriteria,
    line_limit_percent: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> TieTransfer:
    """Head line of ``feeder_id`` out, ``tie_id`` closed: every limit's spare in kVA of load,
    the least of them the margin."""
    fd = model.feeders[feeder_id]
    tie = model.tie_switches[tie_id]
    partner = _partner_of(model, tie_id, feeder_id)
    net = _solved_with_tie(base, tie, (fd.head_line,))
    if net is None:
        return TieTransfer(tie_id, partner, False, math.nan, math.nan, -math.inf, "nonconvergence")
    partner_fd = model.feeders.get(partner) if partner else None
    section_id = partner_fd.bus_section_id if partner_fd else partner
    section = model.bus_sections.get(section_id) if section_id else None
    spares: list[tuple[float, str]] = []

    # lines: only the two feeders involved and the tie are judged
    area = set(fd.lines) | (set(partner_fd.lines) if partner_fd else set())
    if tie.line is not None:
        area.add(tie.line)
    mv = set(model.mv_buses)
    line = net.line
    loading = net.res_line["loading_percent"].to_numpy(float)
    rows = (
        line.index.isin(list(area))
        & line["in_service"].to_numpy(bool)
        & line["from_bus"].isin(mv).to_numpy()
        & line["to_bus"].isin(mv).to_numpy()
        & np.isfinite(loading)
    )
    u_kv = net.bus["vn_kv"].reindex(line["from_bus"]).to_numpy(float)
    # pandapower's loading is current over max_i_ka·df·parallel
    rating = (
        _SQRT3
        * u_kv
        * line["max_i_ka"].to_numpy(float)
        * line["df"].to_numpy(float)
        * line["parallel"].to_numpy(float)
        * 1000.0
    )
    line_spare = np.where(rows, (line_limit_percent - loading) / 100.0 * rating, np.inf)
    max_loading = float(loading[rows].max()) if rows.any() else 0.0
    if rows.any():
        k = int(np.argmin(line_spare))
        spares.append((float(line_spare[k]), f"line:{line.index[k]}"))

    # the main transformers that take the load: those feeding the partner's bus section
    for m in section.main_transformer_ids if section else ():
        t = model.main_transformers[m].trafo
        pct = float(net.res_trafo.at[t, "loading_percent"])
        sn_kva = float(net.trafo.at[t, "sn_mva"]) * 1000.0
        if math.isfinite(pct):
            spare = (criteria.trafo_loading_max_percent - pct) / 100.0 * sn_kva
            spares.append((spare, f"trafo:{t}"))

    # voltages of the two feeders' buses (the dead ones excepted), in kVA of load: with
    # drops proportional to the load carried, a bus at v with the source at v0 reaches the
    # band's edge after (v − lo)/(v0 − v) times the load the restored supply carries
    buses = list(fd.buses) + (list(partner_fd.buses) if partner_fd else [])
    pos = net.bus.index.get_indexer(buses)
    vm_all = net.res_bus["vm_pu"].to_numpy(float)
    vm = vm_all[pos]
    live = np.isfinite(vm)
    pos, vm = pos[live], vm[live]
    min_vm = float(vm.min()) if len(vm) else math.nan
    if partner_fd is not None:
        source_bus = partner_fd.head_bus
    elif section is not None:
        source_bus = section.buses[0]
    else:
        source_bus = tie.bus_b if tie.side_a == feeder_id else tie.bus_a
    v0 = float(net.res_bus.at[source_bus, "vm_pu"])
    if len(vm) and math.isfinite(v0):
        loads = net.load[net.load["bus"].isin(buses) & net.load["in_service"].to_numpy(bool)]
        scale = loads["scaling"].to_numpy(float) if "scaling" in loads else 1.0
        # at least 1 kVA, so a bus out of its band with nothing connected is still short
        carried_kva = max(
            1.0,
            1000.0
            * math.hypot(
                float((loads["p_mw"].to_numpy(float) * scale).sum()),
                float((loads["q_mvar"].to_numpy(float) * scale).sum()),
            ),
        )
        drop = np.maximum(np.abs(v0 - vm), _MIN_DROP_PU)
        lo_b, hi_b = lo[pos], hi[pos]
        # below the source a load lowers the voltage: spare until the lower edge (a bus
        # already under it is short whatever its source); above the upper edge no load
        # is spare, and the overshoot counts negative on the same scale
        low = np.where((vm < v0) | (vm < lo_b), carried_kva * (vm - lo_b) / drop, np.inf)
        high = np.where(vm > hi_b, carried_kva * (hi_b - vm) / drop, np.inf)
        v_spare = np.minimum(low, high)
        k = int(np.argmin(v_spare))
        spares.append((float(v_spare[k]), f"vm:{int(net.bus.index[pos[k]])}"))

    margin, limiting = min(spares, default=(math.inf, "none"))
    return TieTransfer(tie_id, partner, True, max_loading, min_vm, margin, limiting)


@dataclass(frozen=True, slots=True)
class TransferRelief:
    """Headroom freed on a feeder by moving its tail to a neighbour through a tie.

    The tie is closed and the line ``opened_line`` (the entry of a segment on the way to
    the tie) opened; pandapower's AC power flow gives the feeder's new head flow and
    checks the neighbour stays within its limits.
    """

    feeder_id: str
    tie_id: str
    partner_id: str
    opened_line: int
    freed_kva: float
    partner_max_loading_percent: float
    min_vm_pu: float
    ok: bool


def relief_through_ties(
    model: GridModel, feeder_id: str, criteria: HostingCriteria, *, max_splits: int = 4
) -> list[TransferRelief]:
    """Every (tie, split point) that moves part of ``feeder_id`` to a neighbour, best first."""
    fd = model.feeders[feeder_id]
    base = copy.deepcopy(model.net)
    if not criteria.generation and len(base.sgen):
        base.sgen["in_service"] = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            pp.runpp(base)
        except pp.LoadflowNotConverged:
            return []
    head_before = _head_kva(base, fd.head_line)
    out: list[TransferRelief] = []
    for tie_id in fd.tie_ids:
        tie = model.tie_switches[tie_id]
        partner = tie.side_b if tie.side_a == feeder_id else tie.side_a
        if not partner or partner not in model.feeders:
            continue
        own_bus = tie.bus_a if tie.side_a == feeder_id else tie.bus_b
        chain: list[str] = []
        seg = model.bus_segment.get(own_bus)
        while seg is not None:
            chain.append(seg)
            seg = model.segments[seg].parent_segment_id
        # split points: segment entries between the head and the tie, nearest the tie first
        splits = [model.segment_entry_line(s) for s in chain[:-1]][:max_splits]
        for line in [x for x in splits if x is not None]:
            net = _solved_with_tie(base, tie, (line,))
            if net is None:
                continue
            freed = head_before - _head_kva(net, fd.head_line)
            rows = net.line.index.isin(list(model.feeders[partner].lines))
            loading = (
                float(np.nanmax(net.res_line.loc[rows, "loading_percent"])) if rows.any() else 0.0
            )
            buses = list(model.feeders[partner].buses) + list(fd.buses)
            vm = net.res_bus.loc[net.res_bus.index.isin(buses), "vm_pu"].dropna()
            min_vm = float(vm.min()) if len(vm) else math.nan
            ok = (
                loading <= criteria.line_loading_max_percent
                and (not len(vm) or min_vm >= criteria.vm_min_pu)
                and freed > 0
            )
            out.append(
                TransferRelief(feeder_id, tie_id, partner, int(line), freed, loading, min_vm, ok)
            )
    out.sort(key=lambda r: (not r.ok, -r.freed_kva))
    return out


def _head_kva(net: pp.pandapowerNet, head_line: int) -> float:
    res = net.res_line.loc[head_line]
    s = max(
        math.hypot(res["p_from_mw"], res["q_from_mvar"]),
        math.hypot(res["p_to_mw"], res["q_to_mvar"]),
    )
    return 0.0 if math.isnan(s) else s * 1000.0


def _solved_with_tie(
    base: pp.pandapowerNet, tie: Any, out_lines: Sequence[int]
) -> pp.pandapowerNet | None:
    """A copy of ``base`` with ``out_lines`` out and ``tie`` closed, solved by pandapower's
    AC power flow; None when it does not converge (the transfer is then not possible)."""
    net = copy.deepcopy(base)
    net.line.loc[list(out_lines), "in_service"] = False
    if tie.switch is not None:
        net.switch.loc[tie.switch, "closed"] = True
    if tie.line is not None:
        net.line.loc[tie.line, "in_service"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", MatrixRankWarning)
        try:
            pp.runpp(net)
        except pp.LoadflowNotConverged:
            return None
    return net
