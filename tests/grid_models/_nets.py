"""Small hand-built networks whose structure is known by construction."""

from __future__ import annotations

import json

import pandapower as pp

from grid_models import register_std_types


def _geo(lon: float, lat: float) -> str:
    return json.dumps({"type": "Point", "coordinates": [lon, lat]})


class NetBuilder:
    """Builds a 110/10 kV network piece by piece; every bus gets coordinates."""

    def __init__(self) -> None:
        self.net = pp.create_empty_network(name="hand-built")
        register_std_types(self.net)
        self._x = 114.30

    def bus(self, vn_kv: float, lon: float, lat: float, **extra: object) -> int:
        b = int(pp.create_bus(self.net, vn_kv, geo=_geo(lon, lat)))
        for k, v in extra.items():
            self.net.bus.loc[b, k] = v
        return b

    def substation(
        self,
        n_sections: int = 2,
        lon: float = 114.30,
        lat: float = 36.10,
        coupler_closed: bool = False,
    ) -> list[int]:
        hv = self.bus(110, lon, lat)
        pp.create_ext_grid(self.net, hv)
        sections = []
        for k in range(n_sections):
            mv = self.bus(10, lon + 0.0001 * k, lat)
            pp.create_transformer(self.net, hv, mv, "SZ13-63000/110")
            sections.append(mv)
        for a, b in zip(sections, sections[1:], strict=False):
            pp.create_switch(self.net, a, b, "b", closed=coupler_closed, type="CB")
        return sections

    def feeder(
        self,
        start: int,
        spans: int,
        cable: bool = False,
        lon: float | None = None,
        lat: float = 36.10,
        switch_every: int = 0,
        load_mw: float = 0.2,
        name: str | None = None,
        station_prefix: str | None = None,
    ) -> list[int]:
        """A trunk of ``spans`` lines from ``start``; a pole switch before every n-th span."""
        std = "YJV22-3x300" if cable else "JKLYJ-240"
        x = self._x if lon is None else lon
        self._x += 0.05
        buses = [start]
        for k in range(spans):
            extra = {"station": f"{station_prefix}{k}"} if station_prefix else {}
            b = self.bus(10, x + 0.003 * (k + 1), lat, **extra)
            line = pp.create_line(self.net, buses[-1], b, 0.4, std, name=name if k == 0 else None)
            if k == 0:
                pp.create_switch(self.net, start, line, "l", closed=True, type="CB")
            elif switch_every and k % switch_every == 0:
                pp.create_switch(self.net, buses[-1], line, "l", closed=True, type="LBS")
            pp.create_load(self.net, b, load_mw, load_mw * 0.33)
            buses.append(b)
        return buses[1:]

    def tie(self, a: int, b: int, cable: bool = False) -> int:
        """A tie line a–b with a normally-open switch at ``a``; returns the switch index."""
        line = pp.create_line(self.net, a, b, 0.3, "YJV22-3x300" if cable else "JKLYJ-240")
        return int(pp.create_switch(self.net, a, line, "l", closed=False, type="LBS"))
