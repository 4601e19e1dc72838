"""The gridcap network bundle: a folder of CSV / GeoJSON tables plus ``manifest.json``.

The format is described for users in ``docs/bundle-format.md``. In short: one file per
non-empty table of the pandapower net (``bus.csv``, ``line.geojson`` …), the pandapower
index in an ``index`` column, every column of the table (pandapower's own and any extra
ones), units in the column names, bus coordinates as ``lon_deg`` / ``lat_deg`` in CSV and
as geometry in GeoJSON. ``manifest.json`` lists the tables with their file, format, row
count, column dtypes and units, and carries the net's name, frequency, base power and
``gridcap_meta``.

:func:`read_bundle` validates the whole bundle first and raises a single
:class:`~grid_models._errors.NetworkLoadError` listing every problem it found.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
import pandapower as pp
import pandas as pd
from pandapower.auxiliary import pandapowerNet

from grid_models._errors import BundleWriteError, NetworkLoadError, Problem

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "read_bundle", "write_bundle"]

FORMAT_NAME = "gridcap-bundle"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
STD_TYPES_FILE = "std_types.json"
SIMBENCH_PROFILES_DIR = "simbench_profiles"
INDEX_COLUMN = "index"
LON_COLUMN = "lon_deg"
LAT_COLUMN = "lat_deg"

AREAS_TABLE = "gridcap_areas"
CORRIDORS_TABLE = "gridcap_corridors"
PROFILES_TABLE = "gridcap_profiles"
META_KEY = "gridcap_meta"

BundleFormat = Literal["csv", "geojson"]
_FORMATS: tuple[str, ...] = ("csv", "geojson")
_EXTENSIONS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson"}

#: Tables of a net that are never written (Python objects, not data).
_SKIPPED_TABLES = frozenset({"controller"})
#: Tables whose ``geo`` column holds points, written as lon/lat columns in CSV.
_POINT_TABLES = frozenset({"bus", "bus_dc"})
#: Files with fixed names and formats.
_FIXED_FILES: dict[str, tuple[str, str]] = {
    AREAS_TABLE: ("areas.geojson", "geojson"),
    CORRIDORS_TABLE: ("corridors.geojson", "geojson"),
    PROFILES_TABLE: ("profiles.csv", "csv"),
}
_GEOMETRY_TYPES: dict[str, frozenset[str]] = {
    "bus": frozenset({"Point"}),
    "bus_dc": frozenset({"Point"}),
    "line": frozenset({"LineString", "MultiLineString"}),
    "line_dc": frozenset({"LineString", "MultiLineString"}),
    AREAS_TABLE: frozenset({"Polygon", "MultiPolygon"}),
    CORRIDORS_TABLE: frozenset({"LineString"}),
}
#: Tables whose geometry column is ``geometry`` (all others: ``geo``).
_GEOMETRY_TABLES = frozenset({AREAS_TABLE, CORRIDORS_TABLE})
_GEOMETRY_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}

#: Columns a table must have.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "bus": ("vn_kv",),
    "line": (
        "from_bus",
        "to_bus",
        "length_km",
        "r_ohm_per_km",
        "x_ohm_per_km",
        "c_nf_per_km",
        "max_i_ka",
    ),
    "trafo": (
        "hv_bus",
        "lv_bus",
        "sn_mva",
        "vn_hv_kv",
        "vn_lv_kv",
        "vk_percent",
        "vkr_percent",
        "pfe_kw",
        "i0_percent",
    ),
    "trafo3w": (
        "hv_bus",
        "mv_bus",
        "lv_bus",
        "sn_hv_mva",
        "sn_mv_mva",
        "sn_lv_mva",
        "vn_hv_kv",
        "vn_mv_kv",
        "vn_lv_kv",
        "vk_hv_percent",
        "vk_mv_percent",
        "vk_lv_percent",
        "vkr_hv_percent",
        "vkr_mv_percent",
        "vkr_lv_percent",
        "pfe_kw",
        "i0_percent",
    ),
    "switch": ("bus", "element", "et", "closed"),
    "load": ("bus", "p_mw"),
    "sgen": ("bus", "p_mw"),
    "gen": ("bus", "p_mw", "vm_pu"),
    "ext_grid": ("bus",),
    "shunt": ("bus", "q_mvar"),
    "storage": ("bus", "p_mw", "max_e_mwh"),
    "impedance": ("from_bus", "to_bus", "rft_pu", "xft_pu", "sn_mva"),
    "ward": ("bus", "ps_mw", "qs_mvar", "pz_mw", "qz_mvar"),
    "xward": ("bus", "ps_mw", "qs_mvar", "pz_mw", "qz_mvar", "r_ohm", "x_ohm", "vm_pu"),
    AREAS_TABLE: ("geometry",),
    CORRIDORS_TABLE: ("kind", "geometry"),
}

#: Columns that must name an existing bus.
BUS_REFERENCES: dict[str, tuple[str, ...]] = {
    "line": ("from_bus", "to_bus"),
    "trafo": ("hv_bus", "lv_bus"),
    "trafo3w": ("hv_bus", "mv_bus", "lv_bus"),
    "impedance": ("from_bus", "to_bus"),
    "tcsc": ("from_bus", "to_bus"),
    "dcline": ("from_bus", "to_bus"),
    "switch": ("bus",),
    **{
        table: ("bus",)
        for table in (
            "load",
            "sgen",
            "gen",
            "ext_grid",
            "shunt",
            "storage",
            "motor",
            "ward",
            "xward",
            "asymmetric_load",
            "asymmetric_sgen",
            "svc",
            "ssc",
        )
    },
}

#: Switch element types and the table their ``element`` refers to.
SWITCH_ELEMENT_TABLES = {"b": "bus", "l": "line", "t": "trafo", "t3": "trafo3w"}

# Longest suffix first, so ``_ohm_per_km`` wins over ``_km`` and ``_eur_per_mw`` over ``_mw``.
_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "_ohm_per_km": "Ω/km",
            "_nf_per_km": "nF/km",
            "_us_per_km": "µS/km",
            "_eur_per_mw2": "EUR/MW²",
            "_eur_per_mvar2": "EUR/Mvar²",
            "_eur_per_mw": "EUR/MW",
            "_eur_per_mvar": "EUR/Mvar",
            "_eur": "EUR",
            "_percent": "%",
            "_degree": "degree",
            "_deg": "degree",
            "_kv": "kV",
            "_mw": "MW",
            "_mvar": "Mvar",
            "_mva": "MVA",
            "_mwh": "MWh",
            "_kw": "kW",
            "_kvar": "kvar",
            "_kva": "kVA",
            "_km": "km",
            "_ka": "kA",
            "_ohm": "Ω",
            "_pu": "p.u.",
            "_hz": "Hz",
            "_mm2": "mm²",
        }.items(),
        key=lambda item: -len(item[0]),
    )
)


def column_unit(column: str) -> str | None:
    """The unit of a column from pandapower's suffix convention, or None."""
    for suffix, unit in _UNIT_SUFFIXES:
        if column.endswith(suffix):
            return unit
    return None


# --------------------------------------------------------------------------- column specs

_INT_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})
_FLOAT_DTYPES = frozenset({"float32", "float64"})
_NULLABLE_INT_DTYPES = frozenset(
    {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}
)
_NULLABLE_FLOAT_DTYPES = frozenset({"Float32", "Float64"})
_OBJECT_VALUES = frozenset({"str", "int", "float", "bool", "json"})

_Kind = Literal["int", "float", "bool", "nint", "nfloat", "nbool", "string", "object", "geojson"]


@dataclass(frozen=True, slots=True)
class _Spec:
    """How one column is stored: its pandas dtype and, for object columns, its values."""

    kind: _Kind
    dtype: str
    values: str = "str"
    null_none: bool = False

    @property
    def null(self) -> object:
        return None if self.null_none else np.nan

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("int", "float", "nint", "nfloat") or (
            self.kind == "object" and self.values in ("int", "float")
        )

    @property
    def is_integer(self) -> bool:
        return self.kind in ("int", "nint") or (self.kind == "object" and self.values == "int")

    def text(self) -> str:
        if self.kind not in ("object", "geojson"):
            return self.dtype
        parts: list[str] = [self.kind]
        if self.kind == "object" and self.values != "str":
            parts.append(self.values)
        if self.null_none and self.values != "json":
            parts.append("none")
        return ":".join(parts)


def _parse_spec(text: object) -> _Spec | None:
    """The :class:`_Spec` a manifest dtype string stands for, or None if it is invalid."""
    if not isinstance(text, str):
        return None
    parts = text.split(":")
    base, rest = parts[0], parts[1:]
    simple: dict[frozenset[str], _Kind] = {
        _INT_DTYPES: "int",
        _FLOAT_DTYPES: "float",
        frozenset({"bool"}): "bool",
        _NULLABLE_INT_DTYPES: "nint",
        _NULLABLE_FLOAT_DTYPES: "nfloat",
        frozenset({"boolean"}): "nbool",
        frozenset({"string"}): "string",
    }
    for names, kind in simple.items():
        if base in names:
            return _Spec(kind, base) if not rest else None
    if base not in ("object", "geojson"):
        return None
    null_none = bool(rest) and rest[-1] == "none"
    if null_none:
        rest = rest[:-1]
    if base == "geojson":
        return _Spec("geojson", "object", null_none=null_none) if not rest else None
    values = rest[0] if rest else "str"
    if len(rest) > 1 or values not in _OBJECT_VALUES:
        return None
    return _Spec("object", "object", values, null_none and values != "json")


def _spec_of_dtype(dtype: Any, null_none: bool = False) -> _Spec:
    """The spec for a column of a pandapower empty table (always a known dtype)."""
    spec = _parse_spec(str(dtype))
    if spec is None or spec.kind == "object":
        return _Spec("object", "object", null_none=null_none)
    return spec


def _object_spec(values: pd.Series, geometry: bool) -> _Spec:
    """Classify an object column: what its values are and what stands for missing."""
    arr = values.to_numpy(dtype=object)
    isna = pd.isna(arr)
    nulls = arr[isna]
    n_none = sum(1 for v in nulls if v is None)
    null_none = len(nulls) > 0 and n_none == len(nulls)
    mixed_nulls = 0 < n_none < len(nulls)
    if geometry:
        return _Spec("geojson", "object", null_none=null_none)
    present = arr[~isna]
    inferred = pd.api.types.infer_dtype(present, skipna=False) if len(present) else "empty"
    value_kind = {
        "string": "str",
        "empty": "str",
        "integer": "int",
        "floating": "float",
        "boolean": "bool",
    }.get(inferred, "json")
    if value_kind == "str" and len(present) and bool((present == "").any()):
        value_kind = "json"  # an empty string must not read back as missing
    if mixed_nulls:
        value_kind = "json"
    return _Spec("object", "object", value_kind, null_none and value_kind != "json")


def _column_spec(series: pd.Series, table: str, column: str, geometry: bool) -> _Spec:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        series = series.astype(object)
        dtype = series.dtype
    if pd.api.types.is_object_dtype(dtype) or geometry:
        return _object_spec(series, geometry)
    spec = _parse_spec(str(dtype))
    if spec is None or spec.kind in ("object", "geojson"):
        raise ValueError(
            f"cannot write column {column!r} of table {table!r}: dtype {dtype} is not supported"
        )
    return spec


# --------------------------------------------------------------------------- JSON helpers


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _is_nan(value: object) -> bool:
    return isinstance(value, float | np.floating) and math.isnan(value)


def _json_cell(value: object) -> str | None:
    """A value of an ``object:json`` column as JSON text; NaN becomes an empty cell."""
    if _is_nan(value):
        return None
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _geometry_object(value: object) -> dict[str, Any] | None:
    """A geometry value of a net (GeoJSON string, dict, [lon, lat], shapely) as a dict."""
    if value is None or _is_nan(value):
        return None
    if isinstance(value, str):
        obj = json.loads(value)
        if isinstance(obj, dict) and isinstance(obj.get("type"), str):
            return obj  # already plain JSON values
    elif isinstance(value, Mapping):
        obj = dict(value)
    elif isinstance(value, list | tuple | np.ndarray):
        obj = {"type": "Point", "coordinates": list(value)}
    elif hasattr(value, "__geo_interface__"):
        obj = value.__geo_interface__
    else:
        raise ValueError(f"cannot read a geometry from {value!r}")
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ValueError(f"not a GeoJSON geometry: {value!r}")
    # Normalise tuples and numpy scalars to plain JSON values.
    result: dict[str, Any] = json.loads(json.dumps(obj, default=_json_default))
    return result


_GEOMETRY_ENCODER = json.JSONEncoder(sort_keys=True)
_NUMBER = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?"
_POSITION = rf"\[{_NUMBER}, {_NUMBER}(?:, {_NUMBER})?\]"
#: Geometry text already in the canonical layout (so valid JSON), for the fast paths.
_POINT_TEXT = re.compile(rf'\{{"coordinates": \[({_NUMBER}), ({_NUMBER})\], "type": "Point"\}}')
_POSITION_2D = rf"\[{_NUMBER}, {_NUMBER}\]"
_LINE_TEXT_2D = re.compile(
    rf'\{{"coordinates": \[{_POSITION_2D}(?:, {_POSITION_2D})*\], "type": "LineString"\}}'
)
_LINE_TEXT = re.compile(
    rf'\{{"coordinates": \[{_POSITION}(?:, {_POSITION})*\], "type": "LineString"\}}'
)
#: The generator's compact spelling of a 2-D LineString (valid JSON as well).
_POSITION_COMPACT = rf"\[{_NUMBER},{_NUMBER}\]"
_LINE_TEXT_COMPACT = re.compile(
    rf'\{{"type":"LineString","coordinates":\[{_POSITION_COMPACT}(?:,{_POSITION_COMPACT})+\]\}}'
)


def _canonical_geometry(obj: Mapping[str, Any]) -> str:
    """The form geometries are written in CSV: ``json.dumps(obj, sort_keys=True)``."""
    return _GEOMETRY_ENCODER.encode(obj)


def _point_string(lon: float, lat: float) -> str:
    """``_canonical_geometry`` of a Point, fast (json writes floats as ``repr``)."""
    return f'{{"coordinates": [{lon!r}, {lat!r}], "type": "Point"}}'


# --------------------------------------------------------------------------- writing


def write_bundle(net: pandapowerNet, folder: str | Path, fmt: BundleFormat = "csv") -> Path:
    """Write ``net`` as a bundle folder (see docs/bundle-format.md) and return the folder.

    Raises :class:`BundleWriteError` when the net holds something the format cannot carry.
    """
    try:
        return _write_bundle(net, folder, fmt)
    except ValueError as exc:
        raise BundleWriteError(str(exc)) from exc


def _write_bundle(net: pandapowerNet, folder: str | Path, fmt: BundleFormat = "csv") -> Path:
    """Write ``net`` as a bundle into ``folder`` (created if needed) and return the folder.

    ``fmt`` chooses the file format of the element tables: ``"csv"`` or ``"geojson"``.
    ``gridcap_areas`` is always ``areas.geojson``, ``gridcap_corridors`` always
    ``corridors.geojson``, ``gridcap_profiles`` always ``profiles.csv``. Files of the same
    name are overwritten; other files are left alone.
    """
    if fmt not in _FORMATS:
        raise ValueError(f"fmt must be 'csv' or 'geojson', not {fmt!r}")
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)

    tables: dict[str, dict[str, Any]] = {}
    for name, value in net.items():
        if not _is_carried_table(name, value):
            continue
        file_name, table_fmt = _FIXED_FILES.get(name, (f"{name}.{fmt}", fmt))
        tables[name] = _write_table(root, name, value, file_name, table_fmt)

    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "name": net.get("name"),
        "f_hz": net.get("f_hz"),
        "sn_mva": net.get("sn_mva"),
        "tables": tables,
    }

    std_types = net.get("std_types")
    if isinstance(std_types, Mapping):
        text = json.dumps(std_types, indent=1, ensure_ascii=False, default=_json_default)
        (root / STD_TYPES_FILE).write_text(text + "\n", encoding="utf-8")
        manifest["std_types"] = STD_TYPES_FILE

    profiles = net.get("profiles")
    if isinstance(profiles, Mapping) and profiles:
        entries: dict[str, dict[str, Any]] = {}
        for key, frame in profiles.items():
            if not isinstance(frame, pd.DataFrame):
                continue
            if not _is_safe_name(str(key)):
                raise ValueError(f"cannot write profile table {key!r}: unsuitable as a file name")
            (root / SIMBENCH_PROFILES_DIR).mkdir(exist_ok=True)
            file_name = f"{SIMBENCH_PROFILES_DIR}/{key}.csv"
            entries[str(key)] = _write_table(root, f"profiles/{key}", frame, file_name, "csv")
        manifest["profiles"] = entries

    if META_KEY in net:
        manifest["meta"] = net[META_KEY]

    try:
        text = json.dumps(
            manifest, indent=2, ensure_ascii=False, allow_nan=False, default=_json_default
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot write the manifest (name, f_hz, sn_mva or meta): {exc}") from exc
    (root / MANIFEST_FILE).write_text(text + "\n", encoding="utf-8")
    return root


def _is_carried_table(name: object, value: object) -> bool:
    if not isinstance(name, str) or not isinstance(value, pd.DataFrame):
        return False
    if name.startswith(("_", "res_")) or name in _SKIPPED_TABLES:
        return False
    return len(value) > 0


def _is_safe_name(name: str) -> bool:
    return bool(name) and all(c.isalnum() or c in "_-." for c in name) and name[0] != "."


def _geometry_column(name: str, frame: pd.DataFrame) -> str | None:
    column = "geometry" if name in _GEOMETRY_TABLES else "geo"
    return column if column in frame.columns else None


def _write_table(
    root: Path, name: str, frame: pd.DataFrame, file_name: str, fmt: str
) -> dict[str, Any]:
    table = name.split("/")[-1]
    if not _is_safe_name(table):
        raise ValueError(f"cannot write table {name!r}: its name is unsuitable as a file name")
    if isinstance(frame.columns, pd.MultiIndex) or isinstance(frame.index, pd.MultiIndex):
        raise ValueError(f"cannot write table {name!r}: multi-level index or columns")
    columns = list(frame.columns)
    if not all(isinstance(c, str) for c in columns):
        raise ValueError(f"cannot write table {name!r}: column names must be strings")
    if len(set(columns)) != len(columns):
        raise ValueError(f"cannot write table {name!r}: duplicate column names")
    if INDEX_COLUMN in columns:
        raise ValueError(f"cannot write table {name!r}: it has a column named 'index'")

    geometry = _geometry_column(table, frame)
    point_csv = fmt == "csv" and table in _POINT_TABLES and geometry is not None
    if point_csv and (LON_COLUMN in columns or LAT_COLUMN in columns):
        raise ValueError(f"cannot write table {name!r}: it already has lon_deg/lat_deg columns")
    specs = {c: _column_spec(frame[c], name, c, c == geometry) for c in columns}
    index_series = pd.Series(frame.index, dtype=frame.index.dtype)
    index_spec = _column_spec(index_series, name, INDEX_COLUMN, False)

    geometries: list[str | None] = []
    if geometry is not None:
        geometries = _geometry_texts(name, table, frame[geometry])

    path = root / file_name
    if fmt == "csv":
        out = _csv_frame(name, frame, specs, index_series, index_spec, geometry, geometries)
        if point_csv and geometry is not None:
            _point_columns(out, geometry, geometries)
        file_columns = list(out.columns)
        out.to_csv(path, index=False, na_rep="", lineterminator="\n", encoding="utf-8")
    else:
        file_columns = _write_geojson(
            path, name, frame, specs, index_series, index_spec, geometry, geometries
        )

    units = {c: u for c in file_columns if (u := column_unit(c)) is not None}
    entry: dict[str, Any] = {
        "file": file_name,
        "format": fmt,
        "rows": len(frame),
        "index": index_spec.text(),
    }
    if frame.index.name is not None:
        entry["index_name"] = str(frame.index.name)
    entry["columns"] = {c: s.text() for c, s in specs.items()}
    entry["units"] = units
    return entry


def _csv_column(name: str, column: str, series: pd.Series, spec: _Spec) -> Any:
    if spec.kind == "object" and spec.values == "json":
        try:
            return [_json_cell(v) for v in series.to_numpy(dtype=object)]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"cannot write column {column!r} of table {name!r}: {exc}") from exc
    if spec.kind == "object":
        return series.to_numpy(dtype=object, copy=True)
    return series.to_numpy() if spec.kind in ("int", "float", "bool") else series.array


def _geometry_texts(name: str, table: str, series: pd.Series) -> list[str | None]:
    """The geometry column as GeoJSON text in the canonical layout (None when missing).

    Text that already has the canonical layout of a Point / LineString is kept as is (a
    fast path for pandapower's own geo strings); anything else is parsed and re-encoded.
    """
    values = series.to_numpy(dtype=object)
    patterns = (
        (_POINT_TEXT,)
        if table in _POINT_TABLES
        else (_LINE_TEXT,)
        if table in ("line", "line_dc")
        else (_LINE_TEXT, _LINE_TEXT_COMPACT)
        if table == CORRIDORS_TABLE
        else ()
    )
    fast = np.zeros(len(values), dtype=bool)
    if patterns and len(values):
        with contextlib.suppress(AttributeError):  # AttributeError: no text in the column
            for pattern in patterns:
                fast |= series.str.fullmatch(pattern, na=False).to_numpy(dtype=bool)
    return [
        value if is_fast else _geometry_text(name, table, value)
        for value, is_fast in zip(values, fast, strict=True)
    ]


def _geometry_text(name: str, table: str, value: object) -> str | None:
    try:
        geometry = _geometry_object(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"cannot write table {name!r}: bad geometry {value!r}: {exc}") from exc
    if geometry is None:
        return None
    if table in _POINT_TABLES and (
        geometry.get("type") != "Point" or not _is_position(geometry.get("coordinates"))
    ):
        raise ValueError(f"cannot write table {name!r}: the geo {value!r} is not a Point")
    return _canonical_geometry(geometry)


def _csv_frame(
    name: str,
    frame: pd.DataFrame,
    specs: Mapping[str, _Spec],
    index_series: pd.Series,
    index_spec: _Spec,
    geometry: str | None,
    geometries: Sequence[str | None],
) -> pd.DataFrame:
    data: dict[str, Any] = {INDEX_COLUMN: _csv_column(name, INDEX_COLUMN, index_series, index_spec)}
    for column, spec in specs.items():
        if column == geometry:
            data[column] = np.asarray(geometries, dtype=object)
        else:
            data[column] = _csv_column(name, column, frame[column], spec)
    return pd.DataFrame(data)


def _point_columns(out: pd.DataFrame, geometry: str, geometries: Sequence[str | None]) -> None:
    """Replace the (Point) geometry column of ``out`` by lon_deg / lat_deg, in place."""
    texts = pd.Series(geometries, dtype=object)
    lon = np.full(len(texts), np.nan)
    lat = np.full(len(texts), np.nan)
    if texts.notna().any():
        parts = texts.str.extract(_POINT_TEXT)
        matched = parts[0].notna().to_numpy()
        lon[matched] = parts[0][matched].astype("float64")
        lat[matched] = parts[1][matched].astype("float64")
        other = np.flatnonzero(texts.notna().to_numpy() & ~matched)  # e.g. with a z value
        coordinates = [json.loads(texts.iat[i])["coordinates"] for i in other]
        lon[other] = [float(c[0]) for c in coordinates]
        lat[other] = [float(c[1]) for c in coordinates]
    position = out.columns.get_loc(geometry)
    out.drop(columns=geometry, inplace=True)
    out.insert(position, LON_COLUMN, lon)
    out.insert(position + 1, LAT_COLUMN, lat)


def _json_values(name: str, column: str, series: pd.Series, spec: _Spec) -> list[Any]:
    """The values of a column as JSON-native Python values (None for missing)."""
    if spec.kind in ("float", "nfloat") or (spec.kind == "object" and spec.values == "float"):
        floats = pd.to_numeric(series).to_numpy(dtype="float64", na_value=np.nan)
        out = floats.astype(object)
        out[np.isnan(floats)] = None
        out[np.isposinf(floats)] = "inf"
        out[np.isneginf(floats)] = "-inf"
        return list(out.tolist())
    if spec.kind == "object" and spec.values == "json":
        return list(_csv_column(name, column, series, spec))
    arr = series.to_numpy(dtype=object, copy=True)
    arr[pd.isna(arr)] = None
    return list(arr.tolist())


def _write_geojson(
    path: Path,
    name: str,
    frame: pd.DataFrame,
    specs: Mapping[str, _Spec],
    index_series: pd.Series,
    index_spec: _Spec,
    geometry: str | None,
    geometries: Sequence[str | None],
) -> list[str]:
    names = [INDEX_COLUMN] + [c for c in specs if c != geometry]
    values = [_json_values(name, INDEX_COLUMN, index_series, index_spec)] + [
        _json_values(name, c, frame[c], specs[c]) for c in names[1:]
    ]
    if geometry is None:
        geometries = [None] * len(frame)
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_json_default).encode
    try:
        lines = [
            '{"type": "Feature", "geometry": '
            + ("null" if g is None else g)
            + ', "properties": '
            + encode(dict(zip(names, row, strict=True)))
            + "}"
            for g, row in zip(geometries, zip(*values, strict=True), strict=True)
        ]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot write table {name!r} as GeoJSON: {exc}") from exc
    header = json.dumps({"type": "FeatureCollection", "name": name.split("/")[-1]})[:-1]
    body = ",\n".join(lines)
    path.write_text(f'{header}, "features": [\n{body}\n]}}\n', encoding="utf-8")
    return names


# --------------------------------------------------------------------------- reading


class _BadFile(Exception):
    """A file exists but cannot be parsed; the message says why."""


@dataclass
class _Collector:
    """Collects problems while a bundle is read."""

    problems: list[Problem] = field(default_factory=list)

    def add(
        self,
        code: str,
        element: str,
        message: str,
        ids: Iterable[object] = (),
        field: str | None = None,
    ) -> None:
        clean = tuple(_plain_id(i) for i in ids)
        self.problems.append(Problem(code, "error", element, clean, message, field))


def _plain_id(value: object) -> int | str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return str(value)


def _fmt_ids(ids: Sequence[object], limit: int = 10) -> str:
    shown = ", ".join(str(_plain_id(i)) for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


@dataclass
class _Table:
    """A table as read from its file: decoded columns and how to name its rows."""

    name: str
    file: str
    rows: int
    columns: dict[str, pd.Series]
    #: per row: its index value when the index could be read, else its 1-based row number
    ids: np.ndarray
    #: "index" when ids are index values, "row" when they are row numbers
    id_kind: str
    index: pd.Index | None

    def who(self, mask: pd.Series | np.ndarray) -> list[object]:
        return list(self.ids[np.asarray(mask, dtype=bool)])

    def rows_text(self, ids: Sequence[object]) -> str:
        noun = "index" if self.id_kind == "index" else "row"
        return f"{noun} {_fmt_ids(ids)}"

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.columns) if self.columns else pd.DataFrame(index=range(self.rows))
        frame.index = self.index
        return frame


def read_bundle(folder: str | Path) -> pandapowerNet:
    """Read a bundle folder into a pandapower net.

    Every file is validated first; if anything is wrong a single
    :class:`NetworkLoadError` lists all problems found (and nothing else is raised).
    """
    problems = _Collector()
    net: pandapowerNet | None = None
    try:
        net = _read(Path(folder), problems)
    except Exception as exc:  # a safety net: a broken bundle must only give NetworkLoadError
        problems.add(
            "unreadable",
            "bundle",
            f"The bundle could not be read ({type(exc).__name__}: {exc}).",
        )
    if problems.problems or net is None:
        raise NetworkLoadError(spec=str(folder), problems=problems.problems) from None
    return net


def _read(root: Path, problems: _Collector) -> pandapowerNet | None:
    manifest = _read_manifest(root, problems)
    if manifest is None:
        return None

    tables: dict[str, _Table] = {}
    entries = _entries(manifest.get("tables"), "tables", problems)
    for name, entry in entries.items():
        table = _read_table(root, name, entry, problems)
        if table is not None:
            tables[name] = table

    profiles: dict[str, _Table] = {}
    if "profiles" in manifest:
        for key, entry in _entries(manifest["profiles"], "profiles", problems).items():
            table = _read_table(root, f"profiles/{key}", entry, problems)
            if table is not None:
                profiles[key] = table

    std_types = _read_std_types(root, manifest, problems)
    _check_references(tables, set(entries), problems)
    if problems.problems:
        return None

    net = pp.create_empty_network()
    for key in ("name", "f_hz", "sn_mva"):
        if key in manifest and manifest[key] is not None:
            net[key] = manifest[key]
    if std_types is not None:
        net["std_types"] = std_types
    for name, table in tables.items():
        net[name] = table.frame()
    if profiles:
        net["profiles"] = {key: table.frame() for key, table in profiles.items()}
    if "meta" in manifest:
        net[META_KEY] = manifest["meta"]
    return net


def _read_manifest(root: Path, problems: _Collector) -> dict[str, Any] | None:
    path = root / MANIFEST_FILE
    if not root.is_dir():
        problems.add("missing_manifest", "bundle", f"The bundle folder {root} does not exist.")
        return None
    if not path.is_file():
        problems.add(
            "missing_manifest", "bundle", f"The bundle folder {root} has no {MANIFEST_FILE}."
        )
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.add("bad_manifest", "bundle", f"{MANIFEST_FILE} is not valid JSON: {exc}.")
        return None
    if not isinstance(manifest, dict):
        problems.add("bad_manifest", "bundle", f"{MANIFEST_FILE} must hold a JSON object.")
        return None
    ok = True
    if manifest.get("format") != FORMAT_NAME:
        problems.add(
            "bad_format",
            "bundle",
            f"{MANIFEST_FILE}: 'format' is {manifest.get('format')!r}, expected {FORMAT_NAME!r}.",
            field="format",
        )
        ok = False
    version = manifest.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        problems.add(
            "bad_format",
            "bundle",
            f"{MANIFEST_FILE}: 'format_version' is {version!r}; this reader supports "
            f"version {FORMAT_VERSION}.",
            field="format_version",
        )
        ok = False
    for key, types in (("name", (str,)), ("f_hz", (int, float)), ("sn_mva", (int, float))):
        value = manifest.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            problems.add(
                "bad_manifest",
                "bundle",
                f"{MANIFEST_FILE}: {key!r} has the wrong type ({type(value).__name__}).",
                field=key,
            )
    if "meta" in manifest and not isinstance(manifest["meta"], dict | type(None)):
        problems.add(
            "bad_manifest", "bundle", f"{MANIFEST_FILE}: 'meta' must be an object.", field="meta"
        )
    return manifest if ok else None


def _entries(value: object, key: str, problems: _Collector) -> dict[str, dict[str, Any]]:
    """The valid table entries of the manifest's ``tables`` or ``profiles`` object."""
    if value is None and key == "tables":
        problems.add("bad_manifest", "bundle", f"{MANIFEST_FILE} has no 'tables' object.")
        return {}
    if not isinstance(value, dict):
        problems.add("bad_manifest", "bundle", f"{MANIFEST_FILE}: '{key}' must be an object.")
        return {}
    entries: dict[str, dict[str, Any]] = {}
    for name, entry in value.items():
        element = name if key == "tables" else f"profiles/{name}"
        if _entry_ok(element, entry, problems):
            entries[name] = entry
    return entries


def _entry_ok(element: str, entry: object, problems: _Collector) -> bool:
    def bad(message: str, column: str | None = None) -> bool:
        problems.add("bad_manifest", element, f"{MANIFEST_FILE}: {message}", field=column)
        return False

    if element.startswith("_") or element.startswith("res_"):
        return bad(f"table {element!r} is not allowed in a bundle.")
    if not isinstance(entry, dict):
        return bad(f"the entry of table {element!r} must be an object.")
    file_name = entry.get("file")
    if not isinstance(file_name, str) or not file_name:
        return bad(f"table {element!r} has no 'file'.", "file")
    path = PurePosixPath(file_name)
    if path.is_absolute() or ".." in path.parts or "\\" in file_name:
        return bad(f"the file {file_name!r} of table {element!r} is outside the bundle.", "file")
    fmt = entry.get("format", _EXTENSIONS.get(path.suffix.lower()))
    if fmt not in _FORMATS:
        return bad(f"table {element!r} has format {fmt!r}; use 'csv' or 'geojson'.", "format")
    rows = entry.get("rows")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0):
        return bad(f"'rows' of table {element!r} must be a whole number.", "rows")
    if "index" in entry and _parse_spec(entry["index"]) is None:
        return bad(f"'index' of table {element!r} is not a known dtype.", "index")
    columns = entry.get("columns")
    if columns is None:
        return True
    if not isinstance(columns, dict):
        return bad(f"'columns' of table {element!r} must be an object.", "columns")
    ok = True
    for column, text in columns.items():
        if _parse_spec(text) is None:
            ok = bad(f"column {column!r} of table {element!r} has unknown dtype {text!r}.", column)
    n_geometry = sum(1 for text in columns.values() if str(text).startswith("geojson"))
    if n_geometry > 1:
        ok = bad(f"table {element!r} has more than one 'geojson' column.", "columns")
    if INDEX_COLUMN in columns:
        ok = bad(f"table {element!r} lists a column named 'index'.", INDEX_COLUMN)
    return ok


def _read_std_types(
    root: Path, manifest: Mapping[str, Any], problems: _Collector
) -> dict[str, Any] | None:
    file_name = manifest.get("std_types")
    if file_name is None:
        return None
    if not isinstance(file_name, str) or ".." in PurePosixPath(file_name).parts:
        problems.add("bad_manifest", "std_types", f"{MANIFEST_FILE}: bad 'std_types' file name.")
        return None
    path = root / file_name
    if not path.is_file():
        problems.add("missing_file", "std_types", f"The file {file_name} is missing.")
        return None
    try:
        std_types = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.add("bad_file", "std_types", f"{file_name} is not valid JSON: {exc}.")
        return None
    if not isinstance(std_types, dict) or not all(
        isinstance(v, dict) and all(isinstance(t, dict) for t in v.values())
        for v in std_types.values()
    ):
        problems.add(
            "bad_file",
            "std_types",
            f"{file_name} must map element kinds (line, trafo, trafo3w) to named types.",
        )
        return None
    return std_types


# --------------------------------------------------------------------------- files


def _load_csv(path: Path) -> pd.DataFrame:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), None)
        if header is None:
            raise _BadFile("it is empty (no header line)")
        duplicates = sorted({c for c in header if header.count(c) > 1})
        if duplicates:
            raise _BadFile(f"it has duplicate columns {duplicates}")
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8"
        )
    except _BadFile:
        raise
    except (OSError, UnicodeDecodeError, ValueError, pd.errors.ParserError, csv.Error) as exc:
        raise _BadFile(f"it is not a readable CSV file ({exc})") from exc
    return frame


def _load_geojson(path: Path, columns: Sequence[str]) -> tuple[pd.DataFrame, list[Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _BadFile(f"it is not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise _BadFile("it is not a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list):
        raise _BadFile("its 'features' is not a list")
    bad = [
        i + 1
        for i, f in enumerate(features)
        if not isinstance(f, dict) or not isinstance(f.get("properties", {}), dict | type(None))
    ]
    if bad:
        raise _BadFile(f"feature(s) {_fmt_ids(bad)} are not GeoJSON Features with properties")
    if not features:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}), []
    frame = pd.DataFrame([f.get("properties") or {} for f in features])
    return frame, [f.get("geometry") for f in features]


# --------------------------------------------------------------------------- decoding

_BOOLS: dict[object, bool] = {
    "True": True,
    "False": False,
    "true": True,
    "false": False,
    "TRUE": True,
    "FALSE": False,
    "1": True,
    "0": False,
    "1.0": True,
    "0.0": False,
    True: True,
    False: False,
}


def _missing(raw: pd.Series) -> pd.Series:
    """Cells that hold no value: empty text, null or NaN."""
    missing = raw.isna()
    if raw.dtype == object:
        missing |= raw.eq("")
    return missing


def _safe_float(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if math.isnan(result) and not (isinstance(value, str) and value.strip().lower() == "nan"):
        return None if not isinstance(value, float) else result
    return result


def _parse_floats(present: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse present (non-missing) cells as float64; returns values and the bad cells."""
    try:
        return present.astype("float64"), pd.Series(False, index=present.index)
    except (TypeError, ValueError):
        values = [_safe_float(v) for v in present.to_numpy(dtype=object)]
        bad = pd.Series([v is None for v in values], index=present.index, dtype=bool)
        floats = pd.Series(
            [np.nan if v is None else v for v in values], index=present.index, dtype="float64"
        )
        return floats, bad


def _parse_ints(present: pd.Series, dtype: str) -> tuple[pd.Series, pd.Series]:
    """Parse present cells as whole numbers in the range of ``dtype``."""
    kind = pd.api.types.infer_dtype(present, skipna=False) if len(present) else "empty"
    values: pd.Series | None = None
    bad = pd.Series(False, index=present.index)
    if kind in ("integer", "string", "empty"):
        try:
            values = present.astype("int64")
        except (TypeError, ValueError, OverflowError):
            values = None
    if values is None:
        floats, bad = _parse_floats(present)
        numbers = floats.to_numpy()
        finite = np.isfinite(numbers) & (np.abs(np.nan_to_num(numbers)) < 2.0**63)
        whole = np.zeros(len(floats), dtype=bool)
        whole[finite] = numbers[finite] % 1 == 0
        bad = bad | ~pd.Series(whole, index=present.index)
        values = floats.where(~bad, 0).astype("int64")
    base = dtype.lower()
    info = np.iinfo(np.dtype(base))
    top = min(int(info.max), int(np.iinfo(np.int64).max))
    out_of_range = (values < int(info.min)) | (values > top)
    bad = bad | out_of_range
    return values, bad


@dataclass
class _Decoded:
    values: pd.Series
    bad: pd.Series
    what: str
    code: str = "not_a_number"


def _decode(raw: pd.Series, spec: _Spec) -> _Decoded:
    """Decode one raw column (CSV text or GeoJSON property values) by its spec."""
    n = len(raw)
    missing = _missing(raw)
    present = raw[~missing]
    index = raw.index
    no_bad = pd.Series(False, index=index)

    if spec.is_numeric:
        integer = spec.is_integer
        target = spec.dtype if spec.kind != "object" else ("int64" if integer else "float64")
        if integer:
            parsed, bad_p = _parse_ints(present, target)
            what = f"whole numbers ({target})"
        else:
            parsed, bad_p = _parse_floats(present)
            what = "numbers"
        bad = no_bad.copy()
        bad[bad_p.index[bad_p.to_numpy()]] = True
        if integer and spec.kind == "int":
            bad |= missing
            what += " in every row"
        if bad.any():
            floats = pd.Series(np.nan, index=index, dtype="float64")
            good = parsed[~bad_p]
            floats[good.index] = good.astype("float64")
            return _Decoded(floats, bad, what)
        if spec.kind == "int":
            values = pd.Series(parsed.to_numpy().astype(target), index=index)
        elif spec.kind == "float":
            full = pd.Series(np.nan, index=index, dtype="float64")
            full[parsed.index] = parsed
            values = full.astype(target)
        elif spec.kind in ("nint", "nfloat"):
            values = pd.Series(pd.NA, index=index, dtype=target)
            values[parsed.index] = parsed.astype(target)
        else:  # object column of Python numbers
            values = pd.Series(np.full(n, spec.null, dtype=object), index=index, dtype=object)
            values[parsed.index] = parsed.astype(target).astype(object)
        return _Decoded(values, no_bad, what)

    if spec.kind in ("bool", "nbool") or (spec.kind == "object" and spec.values == "bool"):
        try:
            mapped = present.map(_BOOLS)
        except TypeError:
            mapped = pd.Series(
                [_BOOLS.get(v) if isinstance(v, str | bool | int) else None for v in present],
                index=present.index,
                dtype=object,
            )
        bad = no_bad.copy()
        bad[mapped.index[mapped.isna().to_numpy()]] = True
        what = "True or False"
        if spec.kind == "bool":
            bad |= missing
            what += " in every row"
        if bad.any():
            return _Decoded(pd.Series(np.nan, index=index), bad, what, "not_a_boolean")
        if spec.kind == "bool":
            values = pd.Series(mapped.to_numpy(dtype=bool), index=index)
        elif spec.kind == "nbool":
            values = pd.Series(pd.NA, index=index, dtype="boolean")
            values[mapped.index] = mapped.astype("boolean")
        else:
            values = pd.Series(np.full(n, spec.null, dtype=object), index=index, dtype=object)
            values[mapped.index] = mapped.astype(object)
        return _Decoded(values, no_bad, what, "not_a_boolean")

    if spec.kind == "object" and spec.values == "json":
        decoded = [
            np.nan if m else _json_or_bad(v)
            for v, m in zip(raw.to_numpy(dtype=object), missing.to_numpy(), strict=True)
        ]
        bad = pd.Series([d is _BAD for d in decoded], index=index, dtype=bool)
        if bad.any():
            return _Decoded(pd.Series(np.nan, index=index), bad, "JSON values", "bad_value")
        values = pd.Series(decoded, index=index, dtype=object)
        return _Decoded(values, no_bad, "JSON values", "bad_value")

    # Text: "object" (str values), "string" and, when unknown, anything else.
    if len(present) and pd.api.types.infer_dtype(present, skipna=False) != "string":
        present = present.astype(str)
    if spec.kind == "string":
        values = pd.Series(pd.NA, index=index, dtype="string")
        values[present.index] = present.astype("string")
        return _Decoded(values, no_bad, "text", "bad_value")
    arr = np.full(n, spec.null, dtype=object)
    arr[index.get_indexer(present.index)] = present.to_numpy(dtype=object)
    return _Decoded(pd.Series(arr, index=index, dtype=object), no_bad, "text", "bad_value")


class _BadValue:
    pass


_BAD = _BadValue()


def _json_or_bad(value: object) -> object:
    if not isinstance(value, str):
        return _BAD
    try:
        return json.loads(value)
    except ValueError:
        return _BAD


# --------------------------------------------------------------------------- geometry


_SEQUENCES = (list, tuple)
_NUMBERS = (int, float)


def _is_position(value: object) -> bool:
    """A GeoJSON position: 2 or 3 finite numbers."""
    if type(value) not in _SEQUENCES or not 2 <= len(value) <= 3:  # type: ignore[arg-type]
        return False
    # v - v is NaN (not 0) for inf and NaN
    return all(type(v) in _NUMBERS and v - v == 0 for v in value)  # type: ignore[attr-defined]


def _positions(coordinates: object, depth: int) -> list[Sequence[float]] | None:
    """All positions of a GeoJSON coordinates array of the given nesting depth, or None."""
    if depth == 0:
        return [coordinates] if _is_position(coordinates) else None  # type: ignore[list-item]
    if not isinstance(coordinates, list):
        return None
    found: list[Sequence[float]] = []
    for item in coordinates:
        sub = _positions(item, depth - 1)
        if sub is None:
            return None
        found.extend(sub)
    return found


def _geometry_fault(geometry: object, allowed: frozenset[str] | None) -> str | None:
    """None for a valid geometry, else ``bad_geometry`` or ``bad_coordinates``."""
    if not isinstance(geometry, dict) or not isinstance(geometry.get("type"), str):
        return "bad_geometry"
    kind = geometry["type"]
    if (allowed is not None and kind not in allowed) or kind not in _GEOMETRY_DEPTH:
        return "bad_geometry"
    positions = _positions(geometry.get("coordinates"), _GEOMETRY_DEPTH[kind])
    if positions is None or (kind != "Point" and not positions):
        return "bad_geometry"
    if all(-180 <= p[0] <= 180 and -90 <= p[1] <= 90 for p in positions):
        return None
    return "bad_coordinates"


_FAR_REASON = "has a longitude outside [-180, 180] or a latitude outside [-90, 90]"


def _decode_geometries(
    table: _TableReader,
    column: str,
    geometries: Sequence[object],
    spec: _Spec,
    texts: Sequence[object] | None = None,
) -> pd.Series:
    """Check geometry objects and turn them into GeoJSON strings.

    GeoJSON geometries become ``_canonical_geometry`` strings; geometry text from a CSV
    file (``texts``) is kept as written.
    """
    allowed = _GEOMETRY_TYPES.get(table.name)
    fast = [_fast_geometry_text(g, allowed) for g in geometries]
    faults = [
        None if g is None or f is not None else _geometry_fault(g, allowed)
        for g, f in zip(geometries, fast, strict=True)
    ]
    for code, reason in (
        ("bad_geometry", f"must be a GeoJSON geometry ({', '.join(sorted(allowed or {'any'}))})"),
        ("bad_coordinates", _FAR_REASON),
    ):
        mask = np.array([f == code for f in faults], dtype=bool)
        if mask.any():
            table.problem(code, column, mask, reason)
    if texts is not None:
        out = [
            spec.null if g is None or fault is not None else text
            for g, fault, text in zip(geometries, faults, texts, strict=True)
        ]
    else:
        out = [
            f
            if f is not None
            else spec.null
            if g is None or fault is not None
            else _canonical_geometry(g)  # type: ignore[arg-type]
            for g, f, fault in zip(geometries, fast, faults, strict=True)
        ]
    return pd.Series(out, dtype=object)


def _fast_geometry_text(geometry: object, allowed: frozenset[str] | None) -> str | None:
    """``_canonical_geometry`` of a valid plain 2-D Point or LineString of floats, quickly.

    None for anything else (which then takes the general path).
    """
    if type(geometry) is not dict or len(geometry) != 2:
        return None
    kind = geometry.get("type")
    if allowed is not None and kind not in allowed:
        return None
    coordinates = geometry.get("coordinates")
    if type(coordinates) is not list:
        return None
    if kind == "Point":
        inner = _fast_position(coordinates)
    elif kind == "LineString" and coordinates:
        parts = [_fast_position(p) for p in coordinates]
        inner = None if None in parts else "[" + ", ".join(parts) + "]"  # type: ignore[arg-type]
    else:
        return None
    return None if inner is None else f'{{"coordinates": {inner}, "type": "{kind}"}}'


def _fast_position(position: object) -> str | None:
    if type(position) is not list or len(position) != 2:
        return None
    lon, lat = position
    if type(lon) is float and type(lat) is float and -180 <= lon <= 180 and -90 <= lat <= 90:
        return f"[{lon!r}, {lat!r}]"
    return None


@dataclass
class _TableReader:
    """State while one table file is decoded."""

    name: str
    file: str
    problems: _Collector
    ids: np.ndarray
    id_kind: str = "row"
    failed: bool = False

    def problem(self, code: str, column: str | None, mask: Any, reason: str) -> None:
        ids = list(self.ids[np.asarray(mask, dtype=bool)])
        noun = "index" if self.id_kind == "index" else "row"
        where = f"column '{column}'" if column else "the file"
        self.problems.add(
            code,
            self.name,
            f"{self.file}: {where} {reason}; see {noun} {_fmt_ids(ids)}.",
            ids=ids,
            field=column,
        )
        self.failed = True

    def file_problem(self, code: str, column: str | None, message: str) -> None:
        self.problems.add(code, self.name, f"{self.file}: {message}", field=column)
        self.failed = True


def _default_spec(table: str, column: str, raw: pd.Series) -> _Spec:
    """The spec of a column the manifest does not describe."""
    empty = _empty_dtypes().get(table, {})
    if column in empty:
        return _spec_of_dtype(empty[column], null_none=True)
    if raw.dtype == bool:
        return _Spec("bool", "bool")
    if pd.api.types.is_integer_dtype(raw.dtype):
        return _Spec("int", "int64")
    if pd.api.types.is_float_dtype(raw.dtype):
        return _Spec("float", "float64")
    missing = _missing(raw)
    present = raw[~missing]
    if not len(present):
        return _Spec("object", "object")
    if present.isin(["True", "False", "true", "false", True, False]).all():
        return _Spec("bool", "bool") if not missing.any() else _Spec("object", "object", "bool")
    floats, bad = _parse_floats(present)
    if bad.any():
        return _Spec("object", "object")
    whole = bool((floats % 1 == 0).all()) and not missing.any()
    return _Spec("int", "int64") if whole else _Spec("float", "float64")


@functools.cache
def _empty_dtypes() -> dict[str, dict[str, Any]]:
    """Column dtypes of pandapower's empty element tables."""
    net = pp.create_empty_network()
    return {
        name: dict(value.dtypes.items())
        for name, value in net.items()
        if isinstance(value, pd.DataFrame) and not name.startswith(("_", "res_"))
    }


@functools.cache
def _defaults() -> dict[str, pd.DataFrame]:
    """One element of each common table as pandapower creates it: the column defaults."""
    net = pp.create_empty_network()
    for _ in range(3):
        pp.create_bus(net, vn_kv=10.0)
    pp.create_line_from_parameters(net, 0, 1, 1.0, 0.1, 0.1, 10.0, 0.3)
    pp.create_transformer_from_parameters(net, 0, 1, 1.0, 10.0, 0.4, 1.0, 6.0, 1.0, 0.1)
    pp.create_transformer3w_from_parameters(
        net, 0, 1, 2, 10.0, 10.0, 0.4, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0
    )
    pp.create_switch(net, 0, 1, "b")
    pp.create_load(net, 0, 1.0)
    pp.create_sgen(net, 0, 1.0)
    pp.create_gen(net, 0, 1.0)
    pp.create_ext_grid(net, 0)
    pp.create_shunt(net, 0, 1.0)
    pp.create_storage(net, 0, 1.0, 1.0)
    pp.create_impedance(net, 0, 1, 0.1, 0.1, 1.0)
    pp.create_ward(net, 0, 0.0, 0.0, 0.0, 0.0)
    pp.create_xward(net, 0, 0.0, 0.0, 0.0, 0.0, 0.1, 0.1, 1.0)
    empty = _empty_dtypes()
    return {
        name: net[name][list(empty[name])].iloc[:1]
        for name in (
            "bus",
            "line",
            "trafo",
            "trafo3w",
            "switch",
            "load",
            "sgen",
            "gen",
            "ext_grid",
            "shunt",
            "storage",
            "impedance",
            "ward",
            "xward",
        )
    }


def _read_table(
    root: Path, name: str, entry: Mapping[str, Any], problems: _Collector
) -> _Table | None:
    """Read, decode and check one table file; None when the file cannot be read at all."""
    file_name: str = entry["file"]
    fmt = entry.get("format", _EXTENSIONS.get(PurePosixPath(file_name).suffix.lower()))
    path = root / file_name
    # The pandapower meaning of the table ("" for SimBench profile tables).
    kind = "" if name.startswith("profiles/") else name
    if not path.is_file():
        problems.add(
            "missing_file", name, f"The file {file_name} listed for table {name!r} is missing."
        )
        return None
    raw_specs: dict[str, Any] | None = entry.get("columns")
    explicit = raw_specs is not None
    specs = {c: s for c, t in (raw_specs or {}).items() if (s := _parse_spec(t)) is not None}
    try:
        if fmt == "csv":
            raw, geometries = _load_csv(path), None
        else:
            raw, geometries = _load_geojson(path, [INDEX_COLUMN, *specs])
    except _BadFile as exc:
        problems.add("bad_file", name, f"{file_name}: {exc}.")
        return None
    raw = raw.reset_index(drop=True)
    n = len(raw)
    reader = _TableReader(name, file_name, problems, np.arange(1, n + 1).astype(object))

    rows = entry.get("rows")
    if rows is not None and rows != n:
        reader.file_problem("row_count", None, f"the manifest says {rows} rows, the file has {n}.")

    index = _read_index(reader, raw, entry)
    geometry, uses_lonlat = _geometry_layout(reader, kind, raw, geometries, specs, fmt)

    # Columns available in the file (the geometry counts as one), in table order.
    file_columns = [c for c in raw.columns if c != INDEX_COLUMN]
    available: list[str] = []
    for column in file_columns:
        if uses_lonlat and column in (LON_COLUMN, LAT_COLUMN, "geo"):
            column = geometry or column
        if column not in available:
            available.append(column)
    if geometry is not None and geometry not in available and fmt == "geojson":
        available.append(geometry)
    order = list(specs) + [c for c in available if c not in specs]

    required = REQUIRED_COLUMNS.get(kind, ())
    for column in [c for c in order if c not in available] + [
        c for c in required if c not in available and c not in order
    ]:
        because = "it is required" if column in required else "the manifest lists it"
        reader.file_problem(
            "missing_column", column, f"the column '{column}' is missing ({because})."
        )

    columns: dict[str, pd.Series] = {}
    for column in order:
        if column not in available:
            continue
        if column == geometry:
            spec = specs.get(column, _Spec("geojson", "object", null_none=not explicit))
            columns[column] = _read_geometry(reader, raw, geometries, column, spec, uses_lonlat)
            continue
        spec = specs.get(column) or _default_spec(kind, column, raw[column])
        decoded = _decode(raw[column], spec)
        if decoded.bad.any():
            reader.problem(decoded.code, column, decoded.bad, f"must hold {decoded.what}")
        columns[column] = decoded.values

    if not explicit and not reader.failed and kind in _defaults():
        columns = _with_defaults(kind, columns, n)

    return _Table(
        name=name,
        file=file_name,
        rows=n,
        columns=columns,
        ids=reader.ids,
        id_kind=reader.id_kind,
        index=index,
    )


def _read_index(
    reader: _TableReader, raw: pd.DataFrame, entry: Mapping[str, Any]
) -> pd.Index | None:
    """Decode the ``index`` column; afterwards problems name rows by their index values."""
    if INDEX_COLUMN not in raw.columns:
        reader.file_problem("missing_column", INDEX_COLUMN, "the column 'index' is missing.")
        return None
    spec = _parse_spec(entry.get("index", "int64")) or _Spec("int", "int64")
    if spec.kind == "object":
        spec = _Spec("object", "object", spec.values)  # an index has no missing values
    decoded = _decode(raw[INDEX_COLUMN], spec)
    missing = _missing(raw[INDEX_COLUMN])
    bad = decoded.bad | missing
    if bad.any():
        what = decoded.what.removesuffix(" in every row")
        reader.problem(decoded.code, INDEX_COLUMN, bad, f"must hold {what} in every row")
        return None
    values = decoded.values
    name = entry.get("index_name")
    index = pd.Index(
        values,
        dtype=object if spec.kind == "object" else spec.dtype,
        name=name if isinstance(name, str) else None,
    )
    reader.ids = index.to_numpy(dtype=object)
    reader.id_kind = "index"
    duplicated = index.duplicated(keep=False)
    if duplicated.any():
        reader.problem("duplicate_id", INDEX_COLUMN, duplicated, "has duplicate values")
    return index


def _geometry_layout(
    reader: _TableReader,
    kind: str,
    raw: pd.DataFrame,
    geometries: Sequence[object] | None,
    specs: Mapping[str, _Spec],
    fmt: str,
) -> tuple[str | None, bool]:
    """The geometry column of the table, and whether CSV lon_deg/lat_deg columns hold it."""
    columns = set(raw.columns)
    has_lonlat = bool({LON_COLUMN, LAT_COLUMN} & columns)
    geometry = next((c for c, s in specs.items() if s.kind == "geojson"), None)
    if not specs:
        candidate = "geometry" if kind in _GEOMETRY_TABLES else "geo"
        if fmt == "geojson":
            present = candidate in columns or any(g is not None for g in geometries or [])
        else:
            present = candidate in columns or (kind in _POINT_TABLES and has_lonlat)
        geometry = candidate if present else None
    uses_lonlat = fmt == "csv" and kind in _POINT_TABLES and geometry is not None and has_lonlat
    if uses_lonlat and geometry in columns:
        reader.file_problem(
            "duplicate_column",
            geometry,
            f"give either the column '{geometry}' or lon_deg/lat_deg, not both.",
        )
    return geometry, uses_lonlat


def _read_geometry(
    reader: _TableReader,
    raw: pd.DataFrame,
    geometries: Sequence[object] | None,
    column: str,
    spec: _Spec,
    uses_lonlat: bool,
) -> pd.Series:
    n = len(raw)
    if geometries is not None:  # a GeoJSON file
        return _decode_geometries(reader, column, geometries or [None] * n, spec)
    if not uses_lonlat:
        return _read_geometry_text(reader, raw[column], column, spec)

    lon_raw = raw[LON_COLUMN] if LON_COLUMN in raw else pd.Series([""] * n, dtype=object)
    lat_raw = raw[LAT_COLUMN] if LAT_COLUMN in raw else pd.Series([""] * n, dtype=object)
    coordinates = []
    for name, series in ((LON_COLUMN, lon_raw), (LAT_COLUMN, lat_raw)):
        decoded = _decode(series, _Spec("float", "float64"))
        if decoded.bad.any():
            reader.problem("not_a_number", name, decoded.bad, "must hold numbers")
        coordinates.append(decoded.values.to_numpy(dtype="float64"))
    lon, lat = coordinates
    lon_missing, lat_missing = np.isnan(lon), np.isnan(lat)
    half = lon_missing != lat_missing
    if half.any():
        reader.problem(
            "bad_coordinates", LON_COLUMN, half, "and 'lat_deg' must both be given or both be empty"
        )
    present = ~lon_missing & ~lat_missing
    with np.errstate(invalid="ignore"):
        bad_lon = present & ((lon < -180) | (lon > 180))
        bad_lat = present & ((lat < -90) | (lat > 90))
    if bad_lon.any():
        reader.problem("bad_coordinates", LON_COLUMN, bad_lon, "must lie within [-180, 180]")
    if bad_lat.any():
        reader.problem("bad_coordinates", LAT_COLUMN, bad_lat, "must lie within [-90, 90]")
    out = np.full(n, spec.null, dtype=object)
    ok = present & ~bad_lon & ~bad_lat
    positions = np.flatnonzero(ok)
    out[positions] = [
        _point_string(x, y) for x, y in zip(lon[ok].tolist(), lat[ok].tolist(), strict=True)
    ]
    return pd.Series(out, dtype=object)


def _read_geometry_text(
    reader: _TableReader, text: pd.Series, column: str, spec: _Spec
) -> pd.Series:
    """Check a CSV column of GeoJSON geometry text; valid text is kept as written."""
    n = len(text)
    missing = _missing(text).to_numpy()
    fast = np.zeros(n, dtype=bool)
    if reader.name in ("line", "line_dc") and n and not missing.all():
        # 2-D LineStrings in the canonical layout: checked without parsing each one.
        fast = text.str.fullmatch(_LINE_TEXT_2D, na=False).to_numpy(dtype=bool)
    out = np.full(n, spec.null, dtype=object)
    if fast.any():
        far = np.zeros(n, dtype=bool)
        far[fast] = _lonlat_out_of_range(text[fast])
        if far.any():
            reader.problem("bad_coordinates", column, far, _FAR_REASON)
        keep = fast & ~far
        out[keep] = text.to_numpy(dtype=object)[keep]
    slow = ~missing & ~fast
    if slow.any():
        parsed = [_json_or_bad(v) if s else None for v, s in zip(text, slow, strict=True)]
        bad = np.array([p is _BAD for p in parsed], dtype=bool)
        if bad.any():
            reader.problem("bad_geometry", column, bad, "must hold GeoJSON geometry text")
        objects = [None if p is _BAD else p for p in parsed]
        checked = _decode_geometries(reader, column, objects, spec, texts=list(text))
        out[slow] = checked.to_numpy(dtype=object)[slow]
    return pd.Series(out, dtype=object)


def _lonlat_out_of_range(texts: pd.Series) -> np.ndarray:
    """Per 2-D geometry text: does any position lie outside lon [-180, 180], lat [-90, 90]?"""
    numbers = texts.reset_index(drop=True).str.findall(_NUMBER).explode()
    values = numbers.astype("float64").to_numpy()
    is_lon = numbers.groupby(level=0).cumcount().to_numpy() % 2 == 0
    far = np.where(is_lon, np.abs(values) > 180, np.abs(values) > 90)
    per_row = pd.Series(far, index=numbers.index).groupby(level=0).any()
    return per_row.reindex(range(len(texts)), fill_value=False).to_numpy(dtype=bool)


def _with_defaults(table: str, columns: dict[str, pd.Series], n: int) -> dict[str, pd.Series]:
    """pandapower's column order, with its defaults for the standard columns not given."""
    defaults = _defaults()[table]
    result = {
        column: columns[column]
        if column in columns
        else defaults[column].repeat(n).reset_index(drop=True)
        for column in defaults.columns
    }
    result.update({c: s for c, s in columns.items() if c not in result})
    return result


def _check_references(tables: Mapping[str, _Table], listed: set[str], problems: _Collector) -> None:
    """Bus and switch-element references must name rows that exist.

    References into a table that is listed but could not be read (or whose index could
    not be read) are not checked: that table's own problems are reported already.
    """

    def target_index(name: str) -> pd.Index | None:
        table = tables.get(name)
        if table is None:
            return None if name in listed else pd.Index([], dtype="int64")
        return table.index

    for name, table in tables.items():
        buses = target_index("bus")
        for column in BUS_REFERENCES.get(name, ()):
            values = table.columns.get(column)
            if values is None or buses is None:
                continue
            unknown = values.notna() & ~values.isin(buses)
            if unknown.any():
                ids = table.who(unknown)
                missing = sorted({_plain_id(v) for v in values[unknown]}, key=str)
                problems.add(
                    "unknown_bus",
                    name,
                    f"{table.file}: column '{column}' names buses that do not exist "
                    f"({_fmt_ids(missing)}); see {table.rows_text(ids)}.",
                    ids=ids,
                    field=column,
                )

    switch = tables.get("switch")
    if switch is None or "et" not in switch.columns:
        return
    et = switch.columns["et"]
    bad_et = ~et.isin(list(SWITCH_ELEMENT_TABLES))
    if bad_et.any():
        ids = switch.who(bad_et)
        problems.add(
            "bad_value",
            "switch",
            f"{switch.file}: column 'et' must be one of 'b', 'l', 't', 't3'; "
            f"see {switch.rows_text(ids)}.",
            ids=ids,
            field="et",
        )
    element = switch.columns.get("element")
    if element is None:
        return
    for kind, target in SWITCH_ELEMENT_TABLES.items():
        index = target_index(target)
        if index is None:
            continue
        unknown = (et == kind) & element.notna() & ~element.isin(index)
        if unknown.any():
            ids = switch.who(unknown)
            problems.add(
                "unknown_bus" if target == "bus" else "unknown_element",
                "switch",
                f"{switch.file}: column 'element' of switches with et='{kind}' names "
                f"{target} rows that do not exist; see {switch.rows_text(ids)}.",
                ids=ids,
                field="element",
            )
