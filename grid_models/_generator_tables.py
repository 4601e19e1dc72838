"""Column accumulators for the generator, turned into a pandapower net in one call per table."""

from __future__ import annotations

import math

import numpy as np
import pandapower as pp
import pandas as pd

from grid_models._catalogue import load_catalogue, register_std_types
from grid_models._generator_geo import Frame

MIN_LINE_KM = 0.01


class Tables:
    """Plain Python lists, one per column; ``add_*`` return the new element's index."""

    def __init__(self) -> None:
        self.bus_name: list[str] = []
        self.bus_vn: list[float] = []
        self.bus_type: list[str] = []
        self.bus_station: list[str] = []
        self.bus_kind: list[str] = []
        self.bus_bays: list[float] = []
        self.bus_x: list[float] = []
        self.bus_y: list[float] = []
        self.line_from: list[int] = []
        self.line_to: list[int] = []
        self.line_len: list[float] = []
        self.line_std: list[str] = []
        self.line_name: list[str] = []
        self.trafo_hv: list[int] = []
        self.trafo_lv: list[int] = []
        self.trafo_std: list[str] = []
        self.trafo_name: list[str] = []
        self.trafo_role: list[str] = []
        self.trafo_owner: list[str] = []
        self.sw_bus: list[int] = []
        self.sw_el: list[int] = []
        self.sw_et: list[str] = []
        self.sw_closed: list[bool] = []
        self.sw_type: list[str] = []
        self.sw_name: list[str] = []
        self.load_bus: list[int] = []
        self.load_p: list[float] = []
        self.load_q: list[float] = []
        self.load_name: list[str] = []
        self.load_class: list[str] = []
        self.eg_bus: list[int] = []
        self.eg_name: list[str] = []

    def add_bus(
        self,
        name: str,
        vn_kv: float,
        station: str,
        kind: str,
        bays: float,
        x: float,
        y: float,
        btype: str = "b",
    ) -> int:
        self.bus_name.append(name)
        self.bus_vn.append(vn_kv)
        self.bus_type.append(btype)
        self.bus_station.append(station)
        self.bus_kind.append(kind)
        self.bus_bays.append(bays)
        self.bus_x.append(x)
        self.bus_y.append(y)
        return len(self.bus_name) - 1

    def add_line(self, f: int, t: int, length_km: float, std_type: str, name: str) -> int:
        self.line_from.append(f)
        self.line_to.append(t)
        self.line_len.append(max(MIN_LINE_KM, round(length_km, 3)))
        self.line_std.append(std_type)
        self.line_name.append(name)
        return len(self.line_from) - 1

    def add_trafo(self, hv: int, lv: int, std_type: str, name: str, role: str, owner: str) -> int:
        self.trafo_hv.append(hv)
        self.trafo_lv.append(lv)
        self.trafo_std.append(std_type)
        self.trafo_name.append(name)
        self.trafo_role.append(role)
        self.trafo_owner.append(owner)
        return len(self.trafo_hv) - 1

    def add_switch(
        self, bus: int, element: int, et: str, closed: bool, stype: str, name: str
    ) -> None:
        self.sw_bus.append(bus)
        self.sw_el.append(element)
        self.sw_et.append(et)
        self.sw_closed.append(closed)
        self.sw_type.append(stype)
        self.sw_name.append(name)

    def add_load(self, bus: int, s_mva: float, pf: float, name: str, load_class: str) -> None:
        p = s_mva * pf
        self.load_bus.append(bus)
        self.load_p.append(round(p, 6))
        self.load_q.append(round(p * math.tan(math.acos(pf)), 6))
        self.load_name.append(name)
        self.load_class.append(load_class)

    def add_ext_grid(self, bus: int, name: str) -> None:
        self.eg_bus.append(bus)
        self.eg_name.append(name)

    def distance(self, a: int, b: int) -> float:
        return math.hypot(self.bus_x[a] - self.bus_x[b], self.bus_y[a] - self.bus_y[b])


def _obj(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=object)


def build_net(tables: Tables, name: str, frame: Frame) -> pp.pandapowerNet:
    """Create the pandapower net: catalogue std types, then one vectorised call per table."""
    t = tables
    net = pp.create_empty_network(name=name, add_stdtypes=False)
    register_std_types(net)

    n_bus = len(t.bus_name)
    pp.create_buses(
        net, n_bus, vn_kv=np.array(t.bus_vn), name=_obj(t.bus_name), type=_obj(t.bus_type)
    )
    lon, lat = frame.to_lonlat(np.array(t.bus_x), np.array(t.bus_y))
    geo = [
        f'{{"type":"Point","coordinates":[{a:.6f},{b:.6f}]}}'
        for a, b in zip(lon.tolist(), lat.tolist(), strict=True)
    ]
    net.bus["geo"] = pd.Series(geo, index=net.bus.index, dtype=object)
    net.bus["station"] = pd.Series(t.bus_station, index=net.bus.index, dtype=object)
    net.bus["station_kind"] = pd.Series(t.bus_kind, index=net.bus.index, dtype=object)
    net.bus["bays_total"] = pd.Series(t.bus_bays, index=net.bus.index, dtype=float)

    pp.create_lines(
        net,
        np.array(t.line_from, dtype=np.int64),
        np.array(t.line_to, dtype=np.int64),
        length_km=np.array(t.line_len),
        std_type=t.line_std,
        name=_obj(t.line_name),
    )

    cat = load_catalogue()
    types = [cat.transformer_type(s) for s in t.trafo_std]
    std = [tt.to_std_type() for tt in types]

    def col(key: str) -> np.ndarray:
        return np.array([d[key] for d in std])

    pp.create_transformers_from_parameters(
        net,
        np.array(t.trafo_hv, dtype=np.int64),
        np.array(t.trafo_lv, dtype=np.int64),
        sn_mva=col("sn_mva"),
        vn_hv_kv=col("vn_hv_kv"),
        vn_lv_kv=col("vn_lv_kv"),
        vkr_percent=col("vkr_percent"),
        vk_percent=col("vk_percent"),
        pfe_kw=col("pfe_kw"),
        i0_percent=col("i0_percent"),
        shift_degree=col("shift_degree"),
        tap_side=_obj([d["tap_side"] for d in std]),
        tap_neutral=col("tap_neutral"),
        tap_max=col("tap_max"),
        tap_min=col("tap_min"),
        tap_step_percent=col("tap_step_percent"),
        tap_step_degree=col("tap_step_degree"),
        tap_changer_type=_obj([d["tap_changer_type"] for d in std]),
        vector_group=_obj([d["vector_group"] for d in std]),
        name=_obj(t.trafo_name),
        std_type=_obj(t.trafo_std),
        role=_obj(t.trafo_role),
        ownership=_obj(t.trafo_owner),
    )

    pp.create_switches(
        net,
        np.array(t.sw_bus, dtype=np.int64),
        np.array(t.sw_el, dtype=np.int64),
        et=list(t.sw_et),
        closed=np.array(t.sw_closed, dtype=bool),
        type=_obj(t.sw_type),
        name=_obj(t.sw_name),
    )

    pp.create_loads(
        net,
        np.array(t.load_bus, dtype=np.int64),
        p_mw=np.array(t.load_p),
        q_mvar=np.array(t.load_q),
        name=_obj(t.load_name),
        load_class=_obj(t.load_class),
    )

    # One ext_grid through the API, then the rest as copies of that row (same dtypes).
    pp.create_ext_grid(net, t.eg_bus[0], vm_pu=1.0, name=t.eg_name[0])
    rows = net.ext_grid.iloc[[0] * len(t.eg_bus)].copy()
    rows.index = pd.RangeIndex(len(t.eg_bus))
    rows["bus"] = np.array(t.eg_bus, dtype=net.ext_grid["bus"].dtype)
    rows["name"] = pd.Series(t.eg_name, index=rows.index, dtype=object)
    net.ext_grid = rows
    return net
