"""N-1 transfer (N-1 转供校验): if a feeder's head section fails, can its ties carry its load?

For each feeder with ties, the head segment (from the substation bay to the first switch)
is taken out, each tie is closed in turn, and pandapower's AC power flow says whether the
restored network stays within its loading limits and voltage band. The margin is how much
more apparent power the tightest element of the restored supply could carry.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandapower as pp
from scipy.sparse.linalg import MatrixRankWarning

from capacity._criteria import HostingCriteria
from capacity._hosting import bus_levels
from grid_models import GridModel, Rules


@dataclass(frozen=True, slots=True)
class TieTransfer:
    """One tie closed to restore a feeder after its head section fails."""

    tie_id: str
    partner_id: str | None
    converged: bool
    max_loading_percent: float
    min_vm_pu: float
    margin_kva: float
    ok: bool
    limiting: str


@dataclass(frozen=True, slots=True)
class FeederTransfer:
    """A feeder's N-1 transfer check: every tie tried, the best one kept."""

    feeder_id: str
    name: str
    wiring_mode: str
    load_kva: float
    ties: tuple[TieTransfer, ...]
    transferable: bool
    margin_kva: float
    best_tie_id: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "feeder_id": self.feeder_id,
            "name": self.name,
            "wiring_mode": self.wiring_mode,
            "load_kva": round(self.load_kva, 1),
            "transferable": self.transferable,
            "margin_kva": round(self.margin_kva, 1) if math.isfinite(self.margin_kva) else None,
            "best_tie_id": self.best_tie_id,
            "ties": [
                {
                    "tie_id": t.tie_id,
                    "partner_id": t.partner_id,
                    "ok": t.ok,
                    "converged": t.converged,
                    "limiting": t.limiting,
                    "max_loading_percent": round(t.max_loading_percent, 1),
                    "min_vm_pu": round(t.min_vm_pu, 4),
                    "margin_kva": round(t.margin_kva, 1),
                }
                for t in self.ties
            ],
        }


def n1_transfer(
    model: GridModel, criteria: HostingCriteria, *, rules: Rules | None = None
) -> list[FeederTransfer]:
    """Check every feeder's transfer through each of its ties (one AC power flow per tie)."""
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
    load_by_bus = base.load.groupby("bus")[["p_mw", "q_mvar"]].sum()
    out: list[FeederTransfer] = []
    for fd in model.feeders.values():
        buses = [b for b in fd.buses if b in load_by_bus.index]
        p = float(load_by_bus.loc[buses, "p_mw"].sum()) if buses else 0.0
        q = float(load_by_bus.loc[buses, "q_mvar"].sum()) if buses else 0.0
        load_kva = math.hypot(p, q) * 1000.0
        head = model.segments.get(fd.segment_ids[0]) if fd.segment_ids else None
        head_seg = next(
            (
                model.segments[s]
                for s in fd.segment_ids
                if model.segments[s].parent_segment_id is None
            ),
            head,
        )
        results: list[TieTransfer] = []
        for tie_id in fd.tie_ids:
            tie = model.tie_switches[tie_id]
            partner = tie.side_b if tie.side_a == fd.id else tie.side_a
            results.append(
                _try_tie(
                    base,
                    model,
                    head_seg.lines if head_seg else (fd.head_line,),
                    tie_id,
                    partner,
                    fd.id,
                    criteria,
                    lo,
                    hi,
                )
            )
        good = [t for t in results if t.ok]
        best = max(good, key=lambda t: t.margin_kva) if good else None
        out.append(
            FeederTransfer(
                feeder_id=fd.id,
                name=fd.name,
                wiring_mode=fd.wiring_mode,
                load_kva=load_kva,
                ties=tuple(results),
                transferable=best is not None,
                margin_kva=best.margin_kva
                if best
                else (max((t.margin_kva for t in results), default=-math.inf)),
                best_tie_id=best.tie_id if best else None,
            )
        )
    return out


def _try_tie(
    base: pp.pandapowerNet,
    model: GridModel,
    head_lines: tuple[int, ...],
    tie_id: str,
    partner: str | None,
    feeder_id: str,
    criteria: HostingCriteria,
    lo: np.ndarray,
    hi: np.ndarray,
) -> TieTransfer:
    tie = model.tie_switches[tie_id]
    net = _solved_with_tie(base, tie, head_lines)
    if net is None:
        return TieTransfer(
            tie_id, partner, False, math.inf, math.nan, -math.inf, False, "nonconvergence"
        )
    # only the two feeders involved (and their substations) are judged
    area = set(model.feeders[feeder_id].lines)
    if partner and partner in model.feeders:
        area |= set(model.feeders[partner].lines)
    if tie.line is not None:
        area.add(tie.line)
    mv = set(model.mv_buses)
    mv_line = net.line["from_bus"].isin(mv).to_numpy() & net.line["to_bus"].isin(mv).to_numpy()
    rows = net.line.index.isin(list(area)) & net.line["in_service"].to_numpy(bool) & mv_line
    loading = net.res_line["loading_percent"].to_numpy(float)
    u_kv = net.bus["vn_kv"].reindex(net.line["from_bus"]).to_numpy(float)
    rating = math.sqrt(3) * u_kv * net.line["max_i_ka"].to_numpy(float) * 1000.0
    lim = criteria.line_loading_max_percent
    margins = (lim - loading) / 100.0 * rating
    margins = np.where(rows, margins, np.inf)
    k = int(np.argmin(margins)) if rows.any() else -1
    margin = float(margins[k]) if k >= 0 else math.inf
    limiting = f"line:{net.line.index[k]}" if k >= 0 else "none"
    bus_rows = net.bus.index.isin(
        list(model.feeders[feeder_id].buses)
        + (list(model.feeders[partner].buses) if partner and partner in model.feeders else [])
    )
    vm = net.res_bus["vm_pu"].to_numpy(float)
    bus_rows &= np.isfinite(vm)  # the failed section itself is dead
    v_ok = bool(np.all((vm[bus_rows] >= lo[bus_rows]) & (vm[bus_rows] <= hi[bus_rows])))
    min_vm = float(np.nanmin(vm[bus_rows])) if bus_rows.any() else math.nan
    max_loading = float(np.nanmax(loading[rows])) if rows.any() else 0.0
    mains = [
        model.main_transformers[m].trafo
        for m in (
            model.bus_sections[model.feeders[partner].bus_section_id].main_transformer_ids
            if partner and partner in model.feeders
            else ()
        )
    ]
    trafo_ok = bool(
        (
            net.res_trafo.loc[mains, "loading_percent"].fillna(0)
            <= criteria.trafo_loading_max_percent
        ).all()
    )
    ok = margin >= 0 and v_ok and trafo_ok
    if not v_ok:
        limiting = "vm"
    return TieTransfer(tie_id, partner, True, max_loading, min_vm, margin, ok, limiting)


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
