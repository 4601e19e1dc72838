"""Load over time (负荷曲线): each load as its peak times a profile, per season.

gridcap networks carry 96-point typical days per load class and season
(``net["gridcap_profiles"]``, columns ``summer/residential`` …); SimBench networks carry a
year of 15-minute profiles (``net.profiles["load"]``, columns ``<profile>_pload`` /
``_qload``); other networks have only the load table, taken as the peak.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandapower as pp
import pandas as pd

from grid_models import Rules, load_rules


@dataclass(frozen=True)
class LoadProfiles:
    """Every load as (profile, p, q) and the profiles as (profile × time) matrices.

    ``p_prof[k, t]`` × ``p_mw[l]`` is load l's active power at t when ``profile_of[l] == k``.
    ``season[t]`` is ``summer``, ``winter`` or ``peak`` (no profile data); ``label[t]``
    names the time (``summer 19:45``).
    """

    profile_of: np.ndarray
    p_mw: np.ndarray
    q_mvar: np.ndarray
    p_prof: np.ndarray
    q_prof: np.ndarray
    season: np.ndarray
    label: list[str]

    @property
    def n_profiles(self) -> int:
        return int(self.p_prof.shape[0])


def load_profiles(net: pp.pandapowerNet, rules: Rules | None = None) -> LoadProfiles:
    """The load profiles a network carries, or its load table as one peak time step."""
    rules = rules or load_rules()
    load = net.load
    ok = load["in_service"].to_numpy(bool)
    scaling = load["scaling"].to_numpy(float) if "scaling" in load else np.ones(len(load))
    p = np.where(ok, load["p_mw"].to_numpy(float) * scaling, 0.0)
    q = np.where(ok, load["q_mvar"].to_numpy(float) * scaling, 0.0)
    table = net.get("gridcap_profiles")
    if isinstance(table, pd.DataFrame) and len(table) and "load_class" in load:
        return _typical_days(table, load["load_class"].astype(str).to_numpy(), p, q)
    profiles = net.get("profiles")
    if isinstance(profiles, dict) and "load" in profiles and "profile" in load:
        return _simbench_year(profiles["load"], load["profile"].astype(str).to_numpy(), p, q, rules)
    return LoadProfiles(
        np.zeros(len(load), np.int64),
        p,
        q,
        np.ones((1, 1)),
        np.ones((1, 1)),
        np.array(["peak"]),
        ["peak"],
    )


def _typical_days(
    table: pd.DataFrame, classes: np.ndarray, p: np.ndarray, q: np.ndarray
) -> LoadProfiles:
    seasons = sorted({c.split("/", 1)[0] for c in table.columns})
    kinds = sorted({c.split("/", 1)[1] for c in table.columns})
    index = {k: i for i, k in enumerate(kinds)}
    # unknown classes follow a flat profile at their peak
    flat = len(kinds)
    prof_of = np.array([index.get(c, flat) for c in classes], dtype=np.int64)
    steps = len(table)
    mat = np.ones((len(kinds) + 1, steps * len(seasons)))
    season = np.repeat(np.array(seasons), steps)
    label = [f"{s} {m // 4:02d}:{(m % 4) * 15:02d}" for s in seasons for m in range(steps)]
    for s_i, s in enumerate(seasons):
        for k, i in index.items():
            col = f"{s}/{k}"
            if col in table.columns:
                mat[i, s_i * steps : (s_i + 1) * steps] = table[col].to_numpy(float)
    # reactive power follows active power (constant power factor per load)
    return LoadProfiles(prof_of, p, q, mat, mat, season, label)


def _simbench_year(
    frame: pd.DataFrame, names: np.ndarray, p: np.ndarray, q: np.ndarray, rules: Rules
) -> LoadProfiles:
    kinds = sorted(set(names.tolist()))
    index = {k: i for i, k in enumerate(kinds)}
    prof_of = np.array([index[n] for n in names], dtype=np.int64)
    steps = len(frame)
    p_prof = np.ones((len(kinds), steps))
    q_prof = np.ones((len(kinds), steps))
    for k, i in index.items():
        if f"{k}_pload" in frame:
            p_prof[i] = frame[f"{k}_pload"].to_numpy(float)
        if f"{k}_qload" in frame:
            q_prof[i] = frame[f"{k}_qload"].to_numpy(float)
    summer_months = set(rules.get("capacity.summer_months"))
    times = pd.to_datetime(frame["time"], format="%d.%m.%Y %H:%M") if "time" in frame else None
    if times is not None:
        season = np.where(times.dt.month.isin(summer_months), "summer", "winter")
        label = [f"{s} {t:%m-%d %H:%M}" for s, t in zip(season, times, strict=True)]
    else:
        season = np.full(steps, "summer")
        label = [f"step {i}" for i in range(steps)]
    return LoadProfiles(prof_of, p, q, p_prof, q_prof, np.asarray(season), label)
