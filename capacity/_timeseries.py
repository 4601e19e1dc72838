"""AC capacity over time (时序可开放容量): the minimum over the critical times of the profiles.

Running the search at every 15-minute step of two typical days (or of a year) is wasteful:
capacity binds when some element is at its peak. The critical times are the system peak
of each season and the peak of every feeder, bus section and main transformer (from the
rule-based engine, which scans every step); the AC search runs at each and keeps the
minimum per bus, with the time it binds.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandapower as pp
from tqdm import tqdm

from capacity._criteria import HostingCriteria
from capacity._fast import fast_hosting
from capacity._hosting import BusCapacity
from capacity._loads import LoadProfiles, load_profiles
from capacity._rules_based import RuleCapacity, rule_capacity
from grid_models import GridModel, Rules


def critical_steps(profiles: LoadProfiles, rules_cap: RuleCapacity, limit: int = 12) -> list[int]:
    """Time steps worth an AC search: each season's system peak, then the most common
    peak times of feeders, bus sections and main transformers."""
    total = (
        np.bincount(profiles.profile_of, weights=profiles.p_mw, minlength=profiles.n_profiles)
        @ profiles.p_prof
    )
    steps: list[int] = []
    for season in sorted(set(profiles.season.tolist())):
        cols = np.flatnonzero(profiles.season == season)
        steps.append(int(cols[np.argmax(total[cols])]))
    index = {label: i for i, label in enumerate(profiles.label)}
    peaks = Counter(
        index[e.peak_at]
        for e in rules_cap.elements.values()
        if e.kind in ("feeder", "bus_section", "main_transformer") and e.peak_at in index
    )
    for step, _ in peaks.most_common():
        if len(steps) >= limit:
            break
        if step not in steps:
            steps.append(step)
    return steps


def net_at(net: pp.pandapowerNet, profiles: LoadProfiles, step: int) -> pp.pandapowerNet:
    """A copy of ``net`` with every load at its value at ``step``."""
    out = copy.deepcopy(net)
    scale = profiles.p_prof[profiles.profile_of, step]
    qscale = profiles.q_prof[profiles.profile_of, step]
    base_scaling = out.load["scaling"].to_numpy(float) if "scaling" in out.load else 1.0
    out.load["p_mw"] = profiles.p_mw * scale / base_scaling
    out.load["q_mvar"] = profiles.q_mvar * qscale / base_scaling
    return out


def ac_capacity_over_time(
    model: GridModel,
    criteria: HostingCriteria,
    buses: Iterable[int] | None = None,
    *,
    rules: Rules | None = None,
    limit: int = 12,
) -> list[BusCapacity]:
    """Per bus, the smallest AC capacity over the critical times, and when it binds."""
    profiles = load_profiles(model.net, rules)
    if profiles.p_prof.shape[1] == 1:
        return fast_hosting(model.net, criteria, buses, rules=rules)
    steps = critical_steps(profiles, rule_capacity(model, rules=rules, profiles=profiles), limit)
    chosen = list(buses) if buses is not None else None
    best: dict[int, BusCapacity] = {}
    for step in tqdm(steps, desc="AC capacity over time", disable=None):
        at = profiles.label[step]
        for cap in fast_hosting(net_at(model.net, profiles, step), criteria, chosen, rules=rules):
            if cap.bus not in best or cap.p_mw_max < best[cap.bus].p_mw_max:
                best[cap.bus] = replace(cap, at=at)
    return list(best.values())
