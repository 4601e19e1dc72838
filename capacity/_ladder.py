"""The numeric kernel of the fast engine: a ladder AC power flow along one supply path.

For a candidate bus k in a radial network, an added load changes the flows only on the
path from the slack to k; everything hanging off that path (其余支路) keeps drawing the
power it drew in the base case. The path is solved exactly as an AC ladder with
pandapower's own branch admittances (π model with taps), and the off-path parts are
checked through their base-case aggregates scaled by the path voltage. Bisection on the
added load then finds the capacity. Compiled with numba; plain Python would also work.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# constraint kinds for the "limiting" answer
KIND_NONE, KIND_BRANCH, KIND_BUS, KIND_ELEMENT = 0, 1, 2, 3


@njit(cache=True)
def _solve_path(
    nodes,
    branches,
    up_is_from,
    s_off,
    s_ser,
    s_sh,
    vb,
    p_add,
    q_add,
    ik,
    v0,
    ys,
    sh_f,
    sh_t,
    tau,
    yff,
    yft,
    ytf,
    ytt,
    v_init,
    v_out,
    iu_out,
    id_out,
):
    """Backward/forward sweep on one path; returns True when it converges.

    nodes[0] is the slack; branch i joins nodes[i-1] (up) and nodes[i] (down). A branch is
    pandapower's π model: an ideal tap ``tau`` at its from side, series admittance ``ys``,
    shunts ``sh_f`` (behind the tap) and ``sh_t``. Currents are summed upward (stable for
    short, low-impedance cables); voltages are computed downward from the slack.

    What hangs off the path at node i draws ``s_off[i]`` (its loads: constant power) plus
    its series losses ``s_ser[i]`` (∝ 1/V²) and its shunt power ``s_sh[i]`` (∝ V²), scaled
    from the base-case voltage ``vb[i]``.
    """
    n = len(nodes)
    for i in range(n):
        v_out[i] = v_init[i]
    s_last = complex(p_add, q_add)
    i_series = np.empty(n, np.complex128)
    for _it in range(100):
        j_up = 0j  # current the branch below draws from the node being summed
        for i in range(n - 1, 0, -1):
            b = branches[i]
            vd = v_out[i]
            if abs(vd) < 0.3:
                return False
            ratio = abs(vd) / vb[i]
            s = s_off[i] + s_ser[i] / (ratio * ratio) + s_sh[i] * ratio * ratio
            if i == ik:
                s += s_last
            j_del = (s / vd).conjugate() + j_up  # delivered into node i by branch i
            vu = v_out[i - 1]
            t = tau[b]
            if up_is_from[i]:
                isr = j_del + sh_t[b] * vd
                j_up = (isr + sh_f[b] * vu / t) / t.conjugate()
            else:
                isr = -j_del * t.conjugate() - sh_f[b] * vd / t
                j_up = -isr + sh_t[b] * vu
            i_series[i] = isr
        v_out[0] = v0
        dv = 0.0
        for i in range(1, n):
            b = branches[i]
            if up_is_from[i]:
                new = v_out[i - 1] / tau[b] - i_series[i] / ys[b]
            else:
                new = tau[b] * (v_out[i - 1] + i_series[i] / ys[b])
            d = abs(new - v_out[i])
            if d > dv:
                dv = d
            v_out[i] = new
        if dv < 1e-11:
            for i in range(1, n):
                b = branches[i]
                vu, vd = v_out[i - 1], v_out[i]
                if up_is_from[i]:
                    iu_out[i] = yff[b] * vu + yft[b] * vd
                    id_out[i] = ytf[b] * vu + ytt[b] * vd
                else:
                    iu_out[i] = ytt[b] * vu + ytf[b] * vd
                    id_out[i] = yft[b] * vu + yff[b] * vd
            return True
    return False


# aggregate kinds in the off-path tables: loading (max), lowest / highest voltage per level
AGG_LOAD, AGG_VMIN_MV, AGG_VMIN_LV, AGG_VMAX_MV, AGG_VMAX_LV = 0, 1, 2, 3, 4


@njit(cache=True)
def _best_excluding(agg_f, agg_i, kk, node, exclude, take_max):
    """Aggregate ``kk`` of a node's own value and its children's subtrees, one child left out.

    ``agg_f[kk]`` rows: best child value, second best, own value; ``agg_i[kk]`` rows: best
    child, element of the best, element of the second best, own element (-1: none).
    """
    val, arg = agg_f[kk, 2, node], agg_i[kk, 3, node]
    if agg_i[kk, 0, node] != exclude:
        cand, cand_arg = agg_f[kk, 0, node], agg_i[kk, 1, node]
    else:
        cand, cand_arg = agg_f[kk, 1, node], agg_i[kk, 2, node]
    if cand_arg >= 0 and (arg < 0 or (take_max and cand > val) or (not take_max and cand < val)):
        return cand, cand_arg
    return val, arg


@njit(cache=True)
def _margin(
    nodes,
    branches,
    up_is_from,
    vm_base,
    v,
    yff,
    yft,
    ytf,
    ytt,
    mem_ptr,
    members,
    a_from,
    a_to,
    bus_level,
    node_vmin,
    node_vmax,
    vmin,
    vmax,
    agg_f,
    agg_i,
    ik,
):
    """Worst violation (> 0 violates) and (kind, id) of the element that has it.

    Voltages are checked on the candidate's level and above: an MV candidate is judged on
    the MV band (LV voltages are set by distribution-transformer taps, not by MV
    capacity); an LV candidate on both.
    """
    check_levels = 2 if bus_level[nodes[ik]] == 2 else 1
    worst = -1e300
    kind = KIND_NONE
    ident = -1
    n = len(nodes)
    for i in range(n):
        node = nodes[i]
        vm = abs(v[i])
        r = vm_base[node] / vm
        if bus_level[node] > 0:
            x = max(node_vmin[node] - vm, vm - node_vmax[node])
            if x > worst:
                worst, kind, ident = x, KIND_BUS, node
        if i > 0:
            b = branches[i]
            vf, vt = (v[i - 1], v[i]) if up_is_from[i] else (v[i], v[i - 1])
            # parallel branches share the path edge; each carries its own current
            for j in range(mem_ptr[b], mem_ptr[b + 1]):
                m = members[j]
                i_f = yff[m] * vf + yft[m] * vt
                i_t = ytf[m] * vf + ytt[m] * vt
                load = max(abs(i_f) * a_from[m], abs(i_t) * a_to[m])
                if load - 1.0 > worst:
                    worst, kind, ident = load - 1.0, KIND_BRANCH, m
        # everything hanging off the path at this node, scaled by its voltage change
        c = nodes[i + 1] if i < n - 1 else -1
        lv, la = _best_excluding(agg_f, agg_i, AGG_LOAD, node, c, True)
        if la >= 0 and lv * r - 1.0 > worst:
            worst, kind, ident = lv * r - 1.0, KIND_BRANCH, la
        dvm = vm - vm_base[node]
        for lvl2 in range(1, check_levels + 1):
            lo, lo_a = _best_excluding(agg_f, agg_i, lvl2, node, c, False)
            if lo_a >= 0:
                # Constant-power loads draw more current as their voltage falls: the drop d
                # to the lowest bus grows as d' = d·v_low/(vm − d') (a quadratic in d').
                drop = vm_base[node] - lo
                disc = vm * vm - 4.0 * drop * lo
                v_low = 0.5 * (vm + np.sqrt(disc)) if disc > 0 else 0.0
                x = vmin[lvl2] - v_low
                if x > worst:
                    worst, kind, ident = x, KIND_BUS, lo_a
            hi, hi_a = _best_excluding(agg_f, agg_i, lvl2 + 2, node, c, True)
            if hi_a >= 0:
                x = hi + dvm - vmax[lvl2]
                if x > worst:
                    worst, kind, ident = x, KIND_BUS, hi_a
    return worst, kind, ident


@njit(cache=True)
def _evaluate(p, k, ik, q_per_p, v0, path, grid):
    """Solve the path with ``p`` added at position ``ik`` and judge every limit.

    ``path``: (nodes, branches, up_is_from, s_off, s_ser, s_sh, vb, v_init, v, iu, idn);
    ``grid``: the network-wide arrays (branch model, limits, off-path aggregates).
    """
    nodes, branches, up_is_from, s_off, s_ser, s_sh, vb, v_init, v, iu, idn = path
    (
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
        vm_base,
        a_from,
        a_to,
        bus_level,
        node_vmin,
        node_vmax,
        vmin,
        vmax,
        agg_f,
        agg_i,
    ) = grid
    ok = _solve_path(
        nodes,
        branches,
        up_is_from,
        s_off,
        s_ser,
        s_sh,
        vb,
        p,
        p * q_per_p,
        ik,
        v0,
        ys,
        sh_f,
        sh_t,
        tau,
        yff,
        yft,
        ytf,
        ytt,
        v_init,
        v,
        iu,
        idn,
    )
    if not ok:
        return 1e9, KIND_BUS, k
    return _margin(
        nodes,
        branches,
        up_is_from,
        vm_base,
        v,
        yff,
        yft,
        ytf,
        ytt,
        mem_ptr,
        members,
        a_from,
        a_to,
        bus_level,
        node_vmin,
        node_vmax,
        vmin,
        vmax,
        agg_f,
        agg_i,
        ik,
    )


@njit(cache=True, nogil=True)
def hosting_kernel(
    cands,
    parent,
    parent_branch,
    up_is_from_parent,
    depth,
    vm_base,
    v_base,
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
    bus_level,
    node_vmin,
    node_vmax,
    vmin,
    vmax,
    agg_f,
    agg_i,
    q_per_p,
    cap,
    resolution,
    out_p,
    out_kind,
    out_id,
):
    """Capacity of every candidate node by bisection on the ladder model.

    ``s_del[x]``: power the base case delivers into node x through its parent branch;
    ``s_next[x]``: power injected at the parent node into the branch towards x.
    """
    grid = (
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
        vm_base,
        a_from,
        a_to,
        bus_level,
        node_vmin,
        node_vmax,
        vmin,
        vmax,
        agg_f,
        agg_i,
    )
    for ci in range(len(cands)):
        k = cands[ci]
        # The chain runs from the slack to the candidate and on to the lowest-voltage bus
        # below it (of the candidate's level), so the bus that usually binds is solved
        # exactly rather than estimated from its base-case drop.
        lvl = 2 if bus_level[k] == 2 else 1
        low, low_arg = _best_excluding(agg_f, agg_i, lvl, k, -1, False)
        end = low_arg if low_arg >= 0 and depth[low_arg] > depth[k] else k
        ik = depth[k]
        n = depth[end] + 1
        nodes = np.empty(n, np.int64)
        branches = np.full(n, -1, np.int64)
        up_is_from = np.zeros(n, np.bool_)
        x = end
        for i in range(n - 1, -1, -1):
            nodes[i] = x
            if i > 0:
                branches[i] = parent_branch[x]
                up_is_from[i] = up_is_from_parent[x]
                x = parent[x]
        s_off = np.empty(n, np.complex128)
        s_ser = np.empty(n, np.complex128)
        s_sh = np.empty(n, np.complex128)
        vb = np.empty(n)
        for i in range(n):
            x = nodes[i]
            nxt = nodes[i + 1] if i < n - 1 else -1
            s_ser[i] = kid_ser[x] - (sub_ser[nxt] if nxt >= 0 else 0j)
            s_sh[i] = kid_sh[x] - (sub_sh[nxt] if nxt >= 0 else 0j)
            total = (s_del[x] if i > 0 else 0j) - (s_next[nxt] if nxt >= 0 else 0j)
            s_off[i] = total - s_ser[i] - s_sh[i]
            vb[i] = vm_base[x]
        v_init = np.empty(n, np.complex128)
        for i in range(n):
            v_init[i] = v_base[nodes[i]]
        v = np.empty(n, np.complex128)
        iu = np.zeros(n, np.complex128)
        idn = np.zeros(n, np.complex128)
        v0 = v_base[nodes[0]]
        path = (nodes, branches, up_is_from, s_off, s_ser, s_sh, vb, v_init, v, iu, idn)
        w0, k0, i0 = _evaluate(0.0, k, ik, q_per_p, v0, path, grid)
        if w0 > 1e-9:
            out_p[ci], out_kind[ci], out_id[ci] = 0.0, k0, i0
            continue
        wc, kc, ic = _evaluate(cap, k, ik, q_per_p, v0, path, grid)
        if wc <= 1e-9:
            out_p[ci], out_kind[ci], out_id[ci] = cap, KIND_NONE, -1
            continue
        lo, hi = 0.0, cap
        w_lo, w_hi = w0, wc
        hk, hid = kc, ic
        for i in range(n):
            v_init[i] = v_base[nodes[i]]
        # The boundary kept bracketed (lo within every limit, hi beyond one) and found by
        # false position on the worst margin, which is continuous in the added load; the
        # Illinois rule halves a stale end's margin so both ends close in, and a plain
        # bisection step is taken where the margin cannot guide (a solve that failed).
        stale = 0
        steps = 0
        while hi - lo > resolution:
            steps += 1
            if w_hi >= 1e8 and steps <= 40:  # no solution up there: come down fast
                mid = lo + 0.125 * (hi - lo)
            elif w_hi - w_lo <= 0.0 or steps > 40:
                mid = 0.5 * (lo + hi)
            else:
                mid = lo + (hi - lo) * (-w_lo) / (w_hi - w_lo)
                edge = 0.25 * resolution
                mid = min(max(mid, lo + edge), hi - edge)
            wm, km, im = _evaluate(mid, k, ik, q_per_p, v0, path, grid)
            if wm <= 1e-9:
                lo, w_lo = mid, wm
                for i in range(n):
                    v_init[i] = v[i]
                if stale == -1:
                    w_hi *= 0.5
                stale = -1
            else:
                hi, w_hi, hk, hid = mid, wm, km, im
                if stale == 1:
                    w_lo *= 0.5
                stale = 1
        out_p[ci], out_kind[ci], out_id[ci] = lo, hk, hid
