"""The fast AC hosting-capacity engine (default): one base power flow, then a ladder per bus.

pandapower solves the base case once; its internal model (``net._ppc``: per-unit π-model
branch admittances with taps, bus voltages, branch flows) is the input. For each
candidate bus the supply path from the slack is solved as an AC ladder (see
:mod:`capacity._ladder`) and the capacity found by bisection, with the same criteria and
the same loading definitions as pandapower's results (line: current over
``max_i_ka·df·parallel``; transformer: current × rated voltage over ``sn_mva``).
Buses in a meshed part of the network (a closed loop or two slacks) fall back to the
reference engine, so every answer is an AC power-flow answer.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandapower as pp
from numba import njit
from pandapower.pypower.idx_brch import BR_STATUS, F_BUS, PF, PT, QF, QT, SHIFT, T_BUS, TAP
from pandapower.pypower.idx_bus import BASE_KV, BUS_TYPE, NONE, REF, VA, VM
from pandapower.pypower.makeYbus import branch_vectors
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from capacity._criteria import HostingCriteria
from capacity._hosting import (
    BusCapacity,
    Limits,
    Voltage,
    _targets,
    base_limits,
    bus_levels,
    prepare_net,
    reference_hosting,
    solved_voltages,
)
from capacity._ladder import KIND_BRANCH, KIND_BUS, KIND_NONE, hosting_kernel
from grid_models import Rules

_LEVEL_CODE = {"hv": 0, "mv": 1, "lv": 2}
_PER_THREAD = 2000  # candidates below which splitting the search across threads is not worth it


def fast_hosting(
    net: pp.pandapowerNet,
    criteria: HostingCriteria,
    buses: Iterable[int] | None = None,
    *,
    rules: Rules | None = None,
    extra_load_mw: Mapping[int, float] | None = None,
    base_voltages: dict[int, float] | None = None,
    voltage: Voltage = "mv",
) -> list[BusCapacity]:
    """AC hosting capacity of ``buses`` (default: every in-service bus of the ``voltage``
    level(s), see :func:`~capacity._hosting.hosting_buses`) with the ladder engine;
    ``base_voltages``, when given, receives the solved base case's bus voltages (pu)."""
    work = prepare_net(net, criteria, extra_load_mw)
    if base_voltages is not None:
        base_voltages.update(solved_voltages(work))
    levels = bus_levels(work, rules)
    targets = _targets(work, levels, buses, voltage)
    level_of = dict(zip(work.bus.index.tolist(), levels.tolist(), strict=True))
    limits = base_limits(work, criteria, levels)
    model = _PathModel(work, levels, criteria, limits)
    out: dict[int, BusCapacity] = {}
    fallback: list[int] = []
    cand_nodes: list[int] = []
    cand_buses: list[int] = []
    for b in targets:
        node = int(model.pd2ppc[b])
        if node < 0 or math.isnan(float(work.res_bus.at[b, "vm_pu"])):
            out[b] = BusCapacity(b, 0.0, "island", level_of[b], "fast")
        elif model.meshed[node]:
            fallback.append(b)
        elif not model.reached[node]:
            out[b] = BusCapacity(b, 0.0, "island", level_of[b], "fast")
        else:
            cand_nodes.append(node)
            cand_buses.append(b)
    if cand_nodes:
        p, kind, ident = model.run(np.asarray(cand_nodes, dtype=np.int64), criteria)
        for b, pk, kk, ik in zip(cand_buses, p, kind, ident, strict=True):
            out[b] = BusCapacity(b, float(pk), model.name(int(kk), int(ik)), level_of[b], "fast")
    if fallback:
        for cap in reference_hosting(
            net, criteria, fallback, rules=rules, extra_load_mw=extra_load_mw
        ):
            out[cap.bus] = cap
    return [out[b] for b in targets]


class _PathModel:
    """pandapower's internal model arranged as trees rooted at the slack buses."""

    def __init__(
        self, net: pp.pandapowerNet, levels: np.ndarray, criteria: HostingCriteria, limits: Limits
    ):
        ppc = net._ppc
        base = float(ppc["baseMVA"])
        bus = ppc["bus"]
        br = ppc["branch"]
        nb, nl = len(bus), len(br)
        self.net = net
        self.pd2ppc = np.asarray(net._pd2ppc_lookups["bus"])
        status = br[:, BR_STATUS].real > 0
        fb = br[:, F_BUS].real.astype(np.int64)
        tb = br[:, T_BUS].real.astype(np.int64)
        ytt, yff, yft, ytf = branch_vectors(br, nl)
        # the same π model split into tap, series admittance and end shunts
        tap = br[:, TAP].real.astype(float)
        tau = np.where(tap != 0, tap, 1.0) * np.exp(1j * np.deg2rad(br[:, SHIFT].real))
        ys = -ytf * tau
        ys = np.where(ys == 0, 1e-12, ys)
        sh_t = ytt - ys
        sh_f = yff * np.abs(tau) ** 2 - ys
        vm = bus[:, VM].real.astype(float)
        v = vm * np.exp(1j * np.deg2rad(bus[:, VA].real.astype(float)))
        sf = (br[:, PF].real + 1j * br[:, QF].real) / base
        st = (br[:, PT].real + 1j * br[:, QT].real) / base
        basekv = bus[:, BASE_KV].real.astype(float)
        alive = bus[:, BUS_TYPE].real != NONE

        # per-branch factors turning a per-unit current into loading / limit
        a_from = np.zeros(nl)
        a_to = np.zeros(nl)
        self.branch_names = [f"branch:{i}" for i in range(nl)]
        lookups = net._pd2ppc_lookups["branch"]
        if "line" in lookups and len(net.line):
            s, e = lookups["line"]
            line = net.line
            imax = (line["max_i_ka"] * line["df"] * line["parallel"]).to_numpy(float)
            lim = limits.line_percent / 100.0
            a_from[s:e] = base / (math.sqrt(3) * basekv[fb[s:e]]) / imax / lim
            a_to[s:e] = base / (math.sqrt(3) * basekv[tb[s:e]]) / imax / lim
            self.branch_names[s:e] = [f"line:{i}" for i in line.index]
        if "trafo" in lookups and len(net.trafo):
            s, e = lookups["trafo"]
            tr = net.trafo
            rating = (tr["sn_mva"] * tr["parallel"] * tr["df"]).to_numpy(float)
            lim = limits.trafo_percent["trafo"] / 100.0
            a_from[s:e] = base * tr["vn_hv_kv"].to_numpy(float) / (basekv[fb[s:e]] * rating) / lim
            a_to[s:e] = base * tr["vn_lv_kv"].to_numpy(float) / (basekv[tb[s:e]] * rating) / lim
            self.branch_names[s:e] = [f"trafo:{i}" for i in tr.index]

        # Parallel branches (two transformers on one bus, double circuits) become one path
        # edge: a virtual branch with the summed admittances, checked member by member.
        use = np.flatnonzero(status & alive[fb] & alive[tb])
        groups: dict[tuple[int, int], list[int]] = {}
        for b in use.tolist():
            groups.setdefault((int(min(fb[b], tb[b])), int(max(fb[b], tb[b]))), []).append(b)
        members_of: list[list[int]] = [[b] for b in range(nl)]
        edge_branches: list[int] = []
        n_virtual = 0
        unmergeable: list[int] = []
        for group in groups.values():
            if len(group) == 1:
                edge_branches.append(group[0])
                continue
            same = all(fb[b] == fb[group[0]] and abs(tau[b] - tau[group[0]]) < 1e-12 for b in group)
            if not same:
                unmergeable.extend(group)  # circulating currents: leave it meshed
                continue
            members_of.append(group)
            edge_branches.append(nl + n_virtual)
            n_virtual += 1
        ext = nl + n_virtual
        fb = np.concatenate([fb, [fb[g[0]] for g in members_of[nl:]]]).astype(np.int64)
        tb = np.concatenate([tb, [tb[g[0]] for g in members_of[nl:]]]).astype(np.int64)

        def summed(arr: np.ndarray) -> np.ndarray:
            extra = [arr[g].sum() for g in members_of[nl:]]
            return np.concatenate([arr, np.asarray(extra, dtype=arr.dtype)])

        ys, sh_f, sh_t = summed(ys), summed(sh_f), summed(sh_t)
        yff, yft, ytf, ytt = summed(yff), summed(yft), summed(ytf), summed(ytt)
        sf, st = summed(sf), summed(st)
        tau = np.concatenate([tau, [tau[g[0]] for g in members_of[nl:]]])
        a_from = np.concatenate([a_from, np.zeros(n_virtual)])
        a_to = np.concatenate([a_to, np.zeros(n_virtual)])
        mem_ptr = np.zeros(ext + 1, np.int64)
        mem_ptr[1:] = np.cumsum([len(g) for g in members_of])
        members = np.asarray([b for g in members_of for b in g], dtype=np.int64)

        # trees from the slack buses; components with loops or two slacks are "meshed"
        use = np.asarray(edge_branches + unmergeable, dtype=np.int64)
        graph = coo_matrix((np.ones(len(use)), (fb[use], tb[use])), shape=(nb, nb))
        n_comp, comp = connected_components(graph, directed=False)
        roots = np.flatnonzero((bus[:, BUS_TYPE].real == REF) & alive)
        edges_per = np.bincount(comp[fb[use]], minlength=n_comp)
        nodes_per = (
            np.bincount(comp[alive], minlength=n_comp) if alive.any() else np.zeros(n_comp, int)
        )
        roots_per = np.bincount(comp[roots], minlength=n_comp)
        radial = (edges_per == nodes_per - 1) & (roots_per == 1)
        self.meshed = ~radial[comp]
        edge_of: dict[tuple[int, int], int] = {}
        for b in use.tolist():
            edge_of[(int(fb[b]), int(tb[b]))] = b
            edge_of[(int(tb[b]), int(fb[b]))] = b
        parent = np.full(nb, -1, np.int64)
        parent_branch = np.full(nb, -1, np.int64)
        depth = np.zeros(nb, np.int64)
        reached = np.zeros(nb, bool)
        order_all: list[int] = []
        csr = graph.tocsr()
        csr = csr + csr.T
        for r in roots.tolist():
            if not radial[comp[r]]:
                continue
            order, pred = breadth_first_order(csr, r, directed=False, return_predecessors=True)
            for x in order.tolist():
                reached[x] = True
                order_all.append(x)
                p = int(pred[x])
                if p >= 0:
                    parent[x] = p
                    parent_branch[x] = edge_of[(p, x)]
                    depth[x] = depth[p] + 1
        self.reached = reached
        up_is_from = np.zeros(nb, np.bool_)
        has_parent = parent >= 0
        up_is_from[has_parent] = fb[parent_branch[has_parent]] == parent[has_parent]
        pb = np.maximum(parent_branch, 0)
        # power the base case delivers into x (through its parent branch), and injects at
        # the parent into that branch
        s_del = np.where(up_is_from, -st[pb], -sf[pb])
        s_next = np.where(up_is_from, sf[pb], st[pb])
        s_del[~has_parent] = 0
        s_next[~has_parent] = 0

        # levels of ppc nodes (only nodes that stand for in-service pandapower buses)
        node_level = np.zeros(nb, np.int64)
        node_vmin = np.full(nb, -np.inf)
        node_vmax = np.full(nb, np.inf)
        self.node_bus = np.full(nb, -1, np.int64)
        in_service = net.bus["in_service"].to_numpy(bool)
        for b, lvl, ok, lo, hi in zip(
            net.bus.index.tolist(),
            levels.tolist(),
            in_service.tolist(),
            limits.vm_min.tolist(),
            limits.vm_max.tolist(),
            strict=True,
        ):
            node = int(self.pd2ppc[b])
            if ok and node >= 0:
                node_level[node] = max(node_level[node], _LEVEL_CODE[lvl])
                node_vmin[node] = max(node_vmin[node], lo)
                node_vmax[node] = min(node_vmax[node], hi)
                if self.node_bus[node] < 0 or b < self.node_bus[node]:
                    self.node_bus[node] = b
        vmin = np.array([-np.inf, criteria.vm_min_pu, criteria.lv_vm_min_pu])
        vmax = np.array([np.inf, criteria.vm_max_pu, criteria.lv_vm_max_pu])
        # off-path voltages are aggregated shifted by any base-case relaxation, so the
        # level's band applies to them unchanged
        level_lo = vmin[node_level]
        level_hi = vmax[node_level]
        with np.errstate(invalid="ignore"):
            vm_lo_eff = np.where(node_level > 0, vm + (level_lo - node_vmin), vm)
            vm_hi_eff = np.where(node_level > 0, vm + (level_hi - node_vmax), vm)

        # base loading of every branch, normalised by its limit
        i_f = yff * v[fb] + yft * v[tb]
        i_t = ytf * v[fb] + ytt * v[tb]
        base_load = np.maximum(np.abs(i_f) * a_from, np.abs(i_t) * a_to)
        load_arg = np.arange(ext, dtype=np.int64)
        for x in range(nl, ext):
            grp = members[mem_ptr[x] : mem_ptr[x + 1]]
            worst = int(grp[np.argmax(base_load[grp])])
            base_load[x], load_arg[x] = base_load[worst], worst
        self.agg_f, self.agg_i = _aggregates(
            np.asarray(order_all, dtype=np.int64),
            parent,
            parent_branch,
            base_load,
            load_arg,
            vm_lo_eff,
            vm_hi_eff,
            node_level,
            nb,
        )
        # series losses (∝ 1/V²) and shunt power (∝ V²) of every subtree, from the base case
        vf_t = v[fb] / tau
        i_ser = ys * (vf_t - v[tb])
        with np.errstate(divide="ignore", invalid="ignore"):
            loss_ser = np.where(np.abs(ys) > 1e-9, np.abs(i_ser) ** 2 / ys, 0)
        loss_sh = np.conj(sh_f) * np.abs(vf_t) ** 2 + np.conj(sh_t) * np.abs(v[tb]) ** 2
        sub_ser = np.zeros(nb, complex)
        sub_sh = np.zeros(nb, complex)
        kid_ser = np.zeros(nb, complex)
        kid_sh = np.zeros(nb, complex)
        for x in reversed(order_all):
            p = int(parent[x])
            if p < 0:
                continue
            b = int(parent_branch[x])
            sub_ser[x] = kid_ser[x] + loss_ser[b]
            sub_sh[x] = kid_sh[x] + loss_sh[b]
            kid_ser[p] += sub_ser[x]
            kid_sh[p] += sub_sh[x]
        self.arrays = (
            parent,
            parent_branch,
            up_is_from,
            depth,
            vm,
            v,
            s_del,
            s_next,
            sub_ser,
            sub_sh,
            kid_ser,
            kid_sh,
            ys,
            sh_f,
            sh_t,
            tau,
            yff,
            yft,
            ytf,
            ytt,
            mem_ptr,
            members,
            a_from,
            a_to,
            node_level,
            node_vmin,
            node_vmax,
            vmin,
            vmax,
        )

    def run(
        self, cands: np.ndarray, criteria: HostingCriteria
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        out_p = np.zeros(len(cands))
        out_kind = np.zeros(len(cands), np.int64)
        out_id = np.zeros(len(cands), np.int64)
        base = float(self.net._ppc["baseMVA"])

        def part(lo: int, hi: int) -> None:
            # self.arrays is in the kernel's parameter order (see hosting_kernel)
            hosting_kernel(
                cands[lo:hi],
                *self.arrays,
                self.agg_f,
                self.agg_i,
                criteria.q_per_p,
                criteria.search_cap_mw / base,
                criteria.resolution_mw / base,
                out_p[lo:hi],
                out_kind[lo:hi],
                out_id[lo:hi],
            )

        # Each candidate is its own search and the kernel runs without the GIL: a long
        # list is split across the machine's cores (at start-up, every point of a network)
        n = len(cands)
        threads = min(os.cpu_count() or 1, n // _PER_THREAD)
        if threads <= 1:
            part(0, n)
        else:
            cuts = np.linspace(0, n, threads + 1).astype(int).tolist()
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(part, cuts[:-1], cuts[1:]))
        return out_p * base, out_kind, out_id

    def name(self, kind: int, ident: int) -> str:
        if kind == KIND_NONE:
            return "none"
        if kind == KIND_BRANCH:
            return self.branch_names[ident]
        if kind == KIND_BUS:
            return f"vm:{int(self.node_bus[ident])}"
        return "unknown"


@njit(cache=True)
def _aggregates(
    order: np.ndarray,
    parent: np.ndarray,
    parent_branch: np.ndarray,
    base_load: np.ndarray,
    load_arg: np.ndarray,
    vm_lo: np.ndarray,
    vm_hi: np.ndarray,
    node_level: np.ndarray,
    nb: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Subtree aggregates per node, with the best two children kept for exclusion.

    Kinds (first axis): 0 branch loading (max), 1/2 lowest MV/LV voltage, 3/4 highest.
    """
    n_kinds = 5
    take_max = np.array([True, False, False, True, True])
    agg_f = np.empty((n_kinds, 3, nb))
    agg_i = np.full((n_kinds, 4, nb), -1, np.int64)
    for k in range(n_kinds):
        worst = -np.inf if take_max[k] else np.inf
        agg_f[k, :, :] = worst
    for x in range(nb):
        lvl = node_level[x]
        if lvl == 1 or lvl == 2:
            agg_f[lvl, 2, x] = vm_lo[x]
            agg_f[lvl + 2, 2, x] = vm_hi[x]
            agg_i[lvl, 3, x] = x
            agg_i[lvl + 2, 3, x] = x
    subtree_f = agg_f[:, 2, :].copy()
    subtree_i = agg_i[:, 3, :].copy()
    for j in range(len(order) - 1, -1, -1):
        x = order[j]
        p = parent[x]
        # the subtree of x: its own values, its best child, and its parent branch
        for k in range(n_kinds):
            mx = take_max[k]
            best_v, best_a = agg_f[k, 0, x], agg_i[k, 1, x]
            if best_a >= 0 and (
                subtree_i[k, x] < 0
                or (best_v > subtree_f[k, x] if mx else best_v < subtree_f[k, x])
            ):
                subtree_f[k, x], subtree_i[k, x] = best_v, best_a
        if p < 0:
            continue
        b = parent_branch[x]
        if subtree_i[0, x] < 0 or base_load[b] > subtree_f[0, x]:
            subtree_f[0, x], subtree_i[0, x] = base_load[b], load_arg[b]
        for k in range(n_kinds):
            if subtree_i[k, x] < 0:
                continue
            val, arg = subtree_f[k, x], subtree_i[k, x]
            b1, b2 = agg_f[k, 0, p], agg_f[k, 1, p]
            better1 = agg_i[k, 1, p] < 0 or (val > b1 if take_max[k] else val < b1)
            better2 = agg_i[k, 2, p] < 0 or (val > b2 if take_max[k] else val < b2)
            if better1:
                agg_f[k, 1, p], agg_i[k, 2, p] = b1, agg_i[k, 1, p]
                agg_f[k, 0, p], agg_i[k, 0, p], agg_i[k, 1, p] = val, x, arg
            elif better2:
                agg_f[k, 1, p], agg_i[k, 2, p] = val, arg
    return agg_f, agg_i
