"""power-grid-model batch bisection: a peer of the fast engine, for the benchmark only.

The net is converted with power-grid-model-io; the source is made stiff (pandapower's
ext_grid holds its voltage, a PGM source has an internal impedance by default). One probe
load per candidate bus; every bisection step is one batch of power flows (one scenario per
candidate). Loadings are recomputed from PGM's currents with pandapower's definitions
(line: current over max_i_ka·df·parallel; transformer: current × rated voltage over sn),
since PGM's own transformer loading is power-based.
"""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pandas as pd
from power_grid_model import ComponentType, DatasetType, PowerGridModel, initialize_array
from power_grid_model_io.converters import PandaPowerConverter

from capacity import HostingCriteria


def pgm_hosting(
    net: pp.pandapowerNet, criteria: HostingCriteria, buses: list[int]
) -> dict[int, float]:
    net = pp.pandapowerNet(net) if not isinstance(net, pp.pandapowerNet) else net
    if not criteria.generation:
        net.sgen["in_service"] = False
    net.trafo["vector_group"] = net.trafo["vector_group"].fillna("Dyn5")
    tables = {
        k: v
        for k, v in net.items()
        if isinstance(v, pd.DataFrame) and not k.startswith(("res_", "_"))
    }
    conv = PandaPowerConverter(system_frequency=50.0)
    data, _ = conv.load_input_data(tables, make_extra_info=False)
    data[ComponentType.source]["sk"] = 1e20
    bus_of_node = conv.idx_lookup[("bus", None)]
    node_of_bus = pd.Series(bus_of_node.index.to_numpy(), index=bus_of_node.to_numpy())
    n = len(buses)
    next_id = int(max(np.max(a["id"]) for a in data.values())) + 1
    probes = initialize_array(DatasetType.input, ComponentType.sym_load, n)
    probes["id"] = np.arange(next_id, next_id + n)
    probes["node"] = node_of_bus.loc[buses].to_numpy()
    probes["status"] = 1
    probes["type"] = 0
    probes["p_specified"] = 0.0
    probes["q_specified"] = 0.0
    data[ComponentType.sym_load] = np.concatenate([data[ComponentType.sym_load], probes])
    model = PowerGridModel(data)

    line_ids = conv.idx_lookup[("line", None)]
    line_pp = net.line.loc[line_ids.to_numpy()]
    i_max = (line_pp["max_i_ka"] * line_pp["df"] * line_pp["parallel"]).to_numpy() * 1000.0
    trafo_ids = conv.idx_lookup[("trafo", None)]
    tr = net.trafo.loc[trafo_ids.to_numpy()]
    tr_scale = np.sqrt(3) / (tr["sn_mva"] * tr["parallel"] * tr["df"]).to_numpy() / 1e6
    vn = net.bus["vn_kv"]
    node_ids = data[ComponentType.node]["id"]
    node_vn = vn.loc[bus_of_node.loc[node_ids].to_numpy()].to_numpy()
    mv = (node_vn > 1) & (node_vn < 30)
    lv = node_vn <= 1

    def feasible(p_mw: np.ndarray) -> np.ndarray:
        update = initialize_array(DatasetType.update, ComponentType.sym_load, (n, n))
        update["id"] = probes["id"][None, :]
        update["status"] = 1
        update["p_specified"] = np.diag(p_mw * 1e6)
        update["q_specified"] = np.diag(p_mw * 1e6 * criteria.q_per_p)
        ok = np.ones(n, bool)
        # scenarios beyond the nose of the PV curve do not converge: infeasible
        out = model.calculate_power_flow(
            update_data={ComponentType.sym_load: update}, threading=0, continue_on_batch_error=True
        )
        u = out[ComponentType.node]["u_pu"]
        ok &= np.all(np.isfinite(u), axis=1)
        line = out[ComponentType.line]
        ld = np.maximum(line["i_from"], line["i_to"]) / i_max[None, :]
        ok &= ld.max(axis=1) <= criteria.line_loading_max_percent / 100 + 1e-12
        t = out[ComponentType.transformer]
        tl = (
            np.maximum(
                t["i_from"] * tr["vn_hv_kv"].to_numpy() * 1e3,
                t["i_to"] * tr["vn_lv_kv"].to_numpy() * 1e3,
            )
            * tr_scale
        )
        ok &= tl.max(axis=1) <= criteria.trafo_loading_max_percent / 100 + 1e-12
        ok &= np.all((u[:, mv] >= criteria.vm_min_pu) & (u[:, mv] <= criteria.vm_max_pu), axis=1)
        ok &= np.all(
            (u[:, lv] >= criteria.lv_vm_min_pu) & (u[:, lv] <= criteria.lv_vm_max_pu), axis=1
        )
        return ok

    lo = np.zeros(n)
    hi = np.full(n, criteria.search_cap_mw)
    at_cap = feasible(hi.copy())
    steps = math.ceil(math.log2(criteria.search_cap_mw / criteria.resolution_mw))
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        ok = feasible(mid)
        lo = np.where(ok, mid, lo)
        hi = np.where(ok, hi, mid)
    result = np.where(at_cap, criteria.search_cap_mw, lo)
    return dict(zip(buses, result.tolist(), strict=True))
