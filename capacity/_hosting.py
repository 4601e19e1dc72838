"""AC power-flow hosting capacity (交流潮流可开放容量): shared definitions and the reference.

The capacity of a bus is the largest load added there (``p_mw`` at the criteria's power
factor, lagging) for which pandapower's AC power flow keeps every line and transformer at
or below its loading limit and every bus voltage of the candidate's level and above in
band (MV candidates: the MV band; LV candidates: MV and LV bands). The reference
engine finds it by bisection with one full pandapower power flow per step; it is slow and
plainly right, and the fast engine is tested against it.
"""

from __future__ import annotations

import copy
import importlib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandapower as pp
from numba.core.caching import NullCache
from numba.core.dispatcher import Dispatcher
from scipy.sparse.linalg import MatrixRankWarning

from capacity._criteria import HostingCriteria
from capacity._errors import (
    BaseCaseError,
    CriteriaError,
    MissingRatingError,
    UnknownElementError,
)
from grid_models import Rules, load_rules

Level = Literal["hv", "mv", "lv"]
#: which buses a search covers by default: the MV level, the LV level, or both
Voltage = Literal["mv", "lv", "all"]
VOLTAGES: tuple[str, ...] = ("mv", "lv", "all")
_LEVELS_OF_VOLTAGE = {"mv": ("mv",), "lv": ("lv",), "all": ("mv", "lv")}

# pandapower compiles its Newton-Raphson kernels with numba on the first power flow of
# every process (about 2-5 s) and does not cache them; a command-line run pays that each
# time. Caching them (on disk beside pandapower's modules, or numba's user-wide cache
# directory when those are read-only) turns a second run's first power flow into a load.
_PANDAPOWER_KERNELS = (
    "pandapower.build_bus",
    "pandapower.pf.makeYbus_numba",
    "pandapower.pf.dSbus_dV_numba",
    "pandapower.pf.create_jacobian_numba",
    "pandapower.pf.pfsoln_numba",
)


def _cache_pandapower_kernels() -> None:
    for name in _PANDAPOWER_KERNELS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:  # another pandapower layout: those compile as before
            continue
        for value in vars(module).values():
            # numba keeps a dispatcher's cache in ``_cache``; NullCache: compiled each run
            cached = getattr(value, "_cache", None)
            if isinstance(value, Dispatcher) and isinstance(cached, NullCache):
                try:
                    value.enable_caching()
                except RuntimeError:  # no writable cache location: it compiles as before
                    continue


_cache_pandapower_kernels()


@dataclass(frozen=True, slots=True)
class BusCapacity:
    """The AC capacity at one bus: ``p_mw_max`` and what binds (``line:17``, ``vm:42`` …)."""

    bus: int
    p_mw_max: float
    limiting: str
    level: Level
    method: str
    at: str = ""

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "bus": self.bus,
            "p_mw_max": round(self.p_mw_max, 6),
            "limiting": self.limiting,
        }
        if self.at:
            out["at"] = self.at  # when it binds (time-series runs)
        return out


def bus_levels(net: pp.pandapowerNet, rules: Rules | None = None) -> np.ndarray:
    """``hv``/``mv``/``lv`` per bus (bus-table order) from the rules file's voltage bands."""
    rules = rules or load_rules()
    hv_min = float(rules.get("network_defaults.voltage_levels.hv_min_kv"))
    lv_max = float(rules.get("network_defaults.voltage_levels.lv_max_kv"))
    vn = net.bus["vn_kv"].to_numpy(float)
    return np.where(vn >= hv_min, "hv", np.where(vn <= lv_max, "lv", "mv"))


def hosting_buses(
    net: pp.pandapowerNet, voltage: str = "mv", rules: Rules | None = None
) -> list[int]:
    """The buses a search covers by default, in bus-table order: every in-service bus of the
    MV level (``voltage="mv"``), of the LV level (``"lv"``, 低压) or of both (``"all"``)."""
    return _targets(net, bus_levels(net, rules), None, voltage)


def prepare_net(
    net: pp.pandapowerNet,
    criteria: HostingCriteria,
    extra_load_mw: Mapping[int, float] | None = None,
) -> pp.pandapowerNet:
    """A copy of ``net`` set up for the search (generation off if asked, in-flight loads
    ``extra_load_mw`` connected at the criteria's power factor) with its base case solved;
    raises :class:`BaseCaseError` if the base case does not converge."""
    _check_ratings(net)
    work = _working_copy(net)
    if not criteria.generation and len(work.sgen):
        work.sgen["in_service"] = False
    extra = [(bus, p_mw) for bus, p_mw in (extra_load_mw or {}).items() if p_mw > 0]
    if extra:
        extra = _fill_slots(work, extra, criteria.q_per_p)
    if extra:  # one call for all: creating loads one by one costs more than the search
        buses, p_mw = zip(*extra, strict=True)
        pp.create_loads(
            work,
            list(buses),
            list(p_mw),
            [p * criteria.q_per_p for p in p_mw],
            name=INFLIGHT_LOAD,
        )
    # Started from a solution the net already carries (an island solved once, see
    # capacity._islands), Newton's method needs a few iterations; the converged answer is
    # the same as from a flat start, which is tried when the warm start does not converge.
    warm = len(net.res_bus) == len(net.bus) and bool(net.res_bus["vm_pu"].notna().all())
    try:
        try:
            pp.runpp(work, init="results" if warm else "auto")
        except pp.LoadflowNotConverged:
            if not warm:
                raise
            pp.runpp(work, init="auto")
    except pp.LoadflowNotConverged as exc:
        raise BaseCaseError(
            "the base case does not converge in pandapower's AC power flow; no capacity can "
            "be computed until the network data are fixed"
        ) from exc
    return work


#: the name of the loads that stand for reservations in a search
INFLIGHT_LOAD = "gridcap in-flight"
# the element tables a power flow reads (copied, so the source net is never touched; the
# rest is shared: pandapower writes its results and internal model to new objects)
_INPUT_TABLES = (
    "bus",
    "load",
    "sgen",
    "gen",
    "ext_grid",
    "line",
    "trafo",
    "trafo3w",
    "switch",
    "shunt",
    "impedance",
    "ward",
    "xward",
    "storage",
    "dcline",
)


def _working_copy(net: pp.pandapowerNet) -> pp.pandapowerNet:
    """A copy of ``net`` to solve: its element tables copied, the rest shared."""
    work = copy.copy(net)
    for table in _INPUT_TABLES:
        if table in net:
            work[table] = net[table].copy()
    return work


def inflight_slots(net: pp.pandapowerNet, buses: Iterable[int]) -> None:
    """Add a zero load named :data:`INFLIGHT_LOAD` at each of ``buses`` (in place): a search
    then sets reservations there instead of creating loads each time."""
    buses = sorted(set(buses) & set(net.bus.index))
    if buses:
        pp.create_loads(net, buses, 0.0, 0.0, name=INFLIGHT_LOAD)


def _fill_slots(
    work: pp.pandapowerNet, extra: list[tuple[int, float]], q_per_p: float
) -> list[tuple[int, float]]:
    """Put ``extra`` loads into the net's in-flight slots; returns those without one."""
    load = work.load
    slots = np.flatnonzero(load["name"].to_numpy() == INFLIGHT_LOAD)
    if not len(slots):
        return extra
    at = dict(zip(load["bus"].to_numpy()[slots].tolist(), slots.tolist(), strict=True))
    p = load["p_mw"].to_numpy(float, copy=True)
    q = load["q_mvar"].to_numpy(float, copy=True)
    rest: list[tuple[int, float]] = []
    for bus, p_mw in extra:
        i = at.get(bus)
        if i is None:
            rest.append((bus, p_mw))
        else:
            p[i] += p_mw
            q[i] += p_mw * q_per_p
    load["p_mw"] = p
    load["q_mvar"] = q
    return rest


@dataclass(frozen=True)
class Limits:
    """Per-element limits of one search.

    An element already beyond its limit in the base case may not get worse: its limit is
    its base-case value. That keeps one overloaded line or one low LV bus from zeroing
    the capacity of the whole network while still never letting a new load worsen it.
    """

    line_percent: np.ndarray
    trafo_percent: dict[str, np.ndarray]
    vm_min: np.ndarray
    vm_max: np.ndarray
    relaxed: tuple[str, ...]


def base_limits(net: pp.pandapowerNet, criteria: HostingCriteria, levels: np.ndarray) -> Limits:
    """The limits of a search on ``net`` whose base case has been solved."""
    relaxed: list[str] = []
    line_lim = np.full(len(net.line), criteria.line_loading_max_percent)
    if len(net.line):
        base = np.nan_to_num(net.res_line["loading_percent"].to_numpy(float))
        over = base > line_lim
        relaxed += [f"line:{i}" for i in net.line.index[over]]
        line_lim = np.maximum(line_lim, base)
    trafo_lim: dict[str, np.ndarray] = {}
    for table in ("trafo", "trafo3w"):
        lim = np.full(len(net[table]), criteria.trafo_loading_max_percent)
        if len(net[table]):
            base = np.nan_to_num(net[f"res_{table}"]["loading_percent"].to_numpy(float))
            over = base > lim
            relaxed += [f"{table}:{i}" for i in net[table].index[over]]
            lim = np.maximum(lim, base)
        trafo_lim[table] = lim
    vm = net.res_bus["vm_pu"].to_numpy(float)
    lo = np.where(
        levels == "mv", criteria.vm_min_pu, np.where(levels == "lv", criteria.lv_vm_min_pu, -np.inf)
    )
    hi = np.where(
        levels == "mv", criteria.vm_max_pu, np.where(levels == "lv", criteria.lv_vm_max_pu, np.inf)
    )
    known = np.isfinite(vm)
    low = known & (vm < lo)
    high = known & (vm > hi)
    relaxed += [f"vm:{b}" for b in net.bus.index[low | high]]
    lo = np.where(low, vm, lo)
    hi = np.where(high, vm, hi)
    return Limits(line_lim, trafo_lim, lo, hi, tuple(relaxed))


def worst_violation(
    net: pp.pandapowerNet, limits: Limits, levels: np.ndarray | None = None, check_lv: bool = True
) -> tuple[float, str]:
    """The largest violation in the solved net and its element; (≤ 0, "none") if all hold.

    Loading violations are relative (loading/limit − 1); voltage violations in pu.
    ``check_lv`` False leaves LV bus voltages out (an MV candidate is judged on the MV band).
    """
    worst, name = 0.0, "none"
    candidates: list[tuple[np.ndarray, Sequence[object], str]] = []
    if len(net.line):
        ok = net.line["in_service"].to_numpy(bool)
        lv = net.res_line["loading_percent"].to_numpy(float) / limits.line_percent
        candidates.append((np.where(ok, lv - 1, -np.inf), list(net.line.index), "line"))
    for table in ("trafo", "trafo3w"):
        if len(net[table]):
            ok = net[table]["in_service"].to_numpy(bool)
            ld = net[f"res_{table}"]["loading_percent"].to_numpy(float)
            ld = ld / limits.trafo_percent[table]
            candidates.append((np.where(ok, ld - 1, -np.inf), list(net[table].index), table))
    vm = net.res_bus["vm_pu"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        viol = np.fmax(limits.vm_min - vm, vm - limits.vm_max)
    viol = np.where(np.isnan(vm), -np.inf, viol)
    if not check_lv and levels is not None:
        viol = np.where(levels == "lv", -np.inf, viol)
    candidates.append((viol, list(net.bus.index), "vm"))
    for values, ids, kind in candidates:
        if not len(values):
            continue
        k = int(np.argmax(values))
        if values[k] > worst:
            worst, name = float(values[k]), f"{kind}:{ids[k]}"
    return worst, name


def _check(
    net: pp.pandapowerNet,
    criteria: HostingCriteria,
    limits: Limits,
    load_idx: int,
    p_mw: float,
    init: str = "auto",
    levels: np.ndarray | None = None,
    check_lv: bool = True,
) -> tuple[bool, str]:
    net.load.at[load_idx, "p_mw"] = p_mw
    net.load.at[load_idx, "q_mvar"] = p_mw * criteria.q_per_p
    # Beyond the nose of the PV curve the Newton iteration degenerates (singular Jacobian);
    # that is an expected outcome of the search, reported as non-convergence.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", MatrixRankWarning)
        try:
            pp.runpp(net, init=init)
        except pp.LoadflowNotConverged:
            try:  # a warm start from a collapsed case can fail where a fresh start converges
                if init == "auto":
                    raise
                pp.runpp(net, init="auto")
            except pp.LoadflowNotConverged:
                return False, f"vm:{int(net.load.at[load_idx, 'bus'])}"
    worst, name = worst_violation(net, limits, levels, check_lv)
    return worst <= 1e-9, name


def reference_hosting(
    net: pp.pandapowerNet,
    criteria: HostingCriteria,
    buses: Iterable[int] | None = None,
    *,
    rules: Rules | None = None,
    warm_start: bool = False,
    extra_load_mw: Mapping[int, float] | None = None,
    voltage: Voltage = "mv",
) -> list[BusCapacity]:
    """Bisection with a full pandapower AC power flow per step (the reference method).

    ``buses`` defaults to every in-service bus of the ``voltage`` level(s) (see
    :func:`hosting_buses`). Resolution and search cap come from ``criteria``.
    ``warm_start`` starts each power flow from the previous results (same answers, fewer
    Newton iterations).
    """
    init = "results" if warm_start else "auto"
    work = prepare_net(net, criteria, extra_load_mw)
    levels = bus_levels(work, rules)
    limits = base_limits(work, criteria, levels)
    level_of = dict(zip(work.bus.index.tolist(), levels.tolist(), strict=True))
    targets = _targets(work, levels, buses, voltage)
    load_idx = int(
        pp.create_load(
            work, targets[0] if targets else work.bus.index[0], 0.0, name="gridcap hosting probe"
        )
    )
    out: list[BusCapacity] = []
    islanded = set(work.res_bus.index[work.res_bus["vm_pu"].isna()].tolist())
    for bus in targets:
        if bus in islanded:
            out.append(BusCapacity(bus, 0.0, "island", level_of[bus], "powerflow"))
            continue
        work.load.at[load_idx, "bus"] = bus
        lv = level_of[bus] == "lv"
        ok0, name0 = _check(work, criteria, limits, load_idx, 0.0, init, levels, lv)
        if not ok0:
            out.append(BusCapacity(bus, 0.0, name0, level_of[bus], "powerflow"))
            continue
        ok_cap, _ = _check(
            work, criteria, limits, load_idx, criteria.search_cap_mw, init, levels, lv
        )
        if ok_cap:
            out.append(BusCapacity(bus, criteria.search_cap_mw, "none", level_of[bus], "powerflow"))
            continue
        lo, hi = 0.0, criteria.search_cap_mw
        while hi - lo > criteria.resolution_mw:
            mid = 0.5 * (lo + hi)
            ok, _ = _check(work, criteria, limits, load_idx, mid, init, levels, lv)
            lo, hi = (mid, hi) if ok else (lo, mid)
        _, limiting = _check(work, criteria, limits, load_idx, hi, init, levels, lv)
        out.append(BusCapacity(bus, lo, limiting, level_of[bus], "powerflow"))
    return out


def base_case_voltages(net: pp.pandapowerNet, criteria: HostingCriteria) -> dict[int, float]:
    """Bus voltages (pu) of the base case, as the capacity search sees it."""
    return solved_voltages(prepare_net(net, criteria))


def solved_voltages(work: pp.pandapowerNet) -> dict[int, float]:
    """The bus voltages (pu) of a solved net, where it has them."""
    vm = work.res_bus["vm_pu"].to_numpy(float)
    ok = np.isfinite(vm)
    return dict(zip(work.res_bus.index[ok].tolist(), vm[ok].tolist(), strict=True))


def _check_ratings(net: pp.pandapowerNet) -> None:
    bad: list[str] = []
    for table, col in (("line", "max_i_ka"), ("trafo", "sn_mva")):
        df = net[table]
        if len(df):
            ok = df["in_service"].to_numpy(bool)
            vals = df[col].to_numpy(float)
            bad += [f"{table}:{i}" for i in df.index[ok & ~(vals > 0)]]
    if bad:
        raise MissingRatingError(
            f"{len(bad)} in-service elements have no rating, so their loading cannot be "
            f"checked: {', '.join(bad[:20])}{' …' if len(bad) > 20 else ''}"
        )


def _targets(
    net: pp.pandapowerNet,
    levels: np.ndarray,
    buses: Iterable[int] | None,
    voltage: str = "mv",
) -> list[int]:
    in_service = net.bus["in_service"].to_numpy(bool)
    if buses is None:
        if voltage not in _LEVELS_OF_VOLTAGE:
            raise CriteriaError(f"voltage {voltage!r} is not one of {', '.join(VOLTAGES)}")
        wanted = np.isin(levels, _LEVELS_OF_VOLTAGE[voltage])
        return [int(b) for b in net.bus.index[wanted & in_service]]
    chosen = [int(b) for b in buses]
    missing = sorted(set(chosen) - set(net.bus.index.tolist()))
    if missing:
        raise UnknownElementError(f"buses {missing[:10]} are not in the network")
    return chosen
