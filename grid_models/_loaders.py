"""Network specs (contract): ``builtin:NAME``, ``simbench:CODE``, ``pandapower:FUNCTION``, paths."""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import pandapower as pp

from grid_models._errors import NetworkLoadError, Problem, UnknownNetworkSpecError
from grid_models._model import GridModel
from grid_models._rules import Rules
from grid_models._topology import derive_model
from grid_models._validation import validate_net

DEFAULT_NETWORK = "builtin:anyang"


def builtin_names() -> tuple[str, ...]:
    """Networks shipped with the package: the Anyang district and the generator presets."""
    from grid_models._generator import PRESETS

    return ("anyang", *sorted(PRESETS))


@lru_cache(maxsize=4)
def _builtin(name: str) -> pp.pandapowerNet:
    from grid_models._generator import PRESETS, anyang_params, generate_network

    if name == "anyang":
        return generate_network(anyang_params())
    if name in PRESETS:
        return generate_network(PRESETS[name])
    raise UnknownNetworkSpecError(
        f"unknown builtin network {name!r}; shipped: {', '.join(builtin_names())}"
    )


def load_network(spec: str) -> pp.pandapowerNet:
    """The pandapower net a spec names (a fresh copy: callers may change it)."""
    spec = spec.strip()
    kind, _, rest = spec.partition(":")
    if kind == "builtin" and rest:
        return copy.deepcopy(_builtin(rest))
    if kind == "simbench" and rest:
        return _simbench(rest)
    if kind == "pandapower" and rest:
        return _pandapower_example(rest)
    path = Path(spec)
    if path.is_dir():
        from grid_models._bundle import read_bundle

        return read_bundle(path)
    if path.is_file():
        return _json_file(path)
    raise UnknownNetworkSpecError(
        f"network spec {spec!r} is neither builtin:NAME, simbench:CODE, pandapower:FUNCTION,"
        " nor an existing pandapower JSON file or bundle folder"
    )


def _simbench(code: str) -> pp.pandapowerNet:
    import simbench as sb

    if code not in _simbench_codes():
        raise UnknownNetworkSpecError(
            f"no SimBench grid with code {code!r}; codes look like 1-MV-urban--0-sw or"
            " 1-MVLV-urban-all-0-sw (simbench.collect_all_simbench_codes() lists them)"
        )
    return sb.get_simbench_net(code)


@lru_cache(maxsize=1)
def _simbench_codes() -> frozenset[str]:
    import simbench as sb

    return frozenset(sb.collect_all_simbench_codes())


def _pandapower_example(function: str) -> pp.pandapowerNet:
    import pandapower.networks as pn

    fn = getattr(pn, function, None)
    if function.startswith("_") or not callable(fn):
        raise UnknownNetworkSpecError(f"pandapower.networks has no function {function!r}")
    try:
        net = fn()
    except TypeError as exc:
        raise UnknownNetworkSpecError(
            f"pandapower.networks.{function} needs arguments; it cannot be named as a spec"
        ) from exc
    if not isinstance(net, pp.pandapowerNet):
        raise UnknownNetworkSpecError(f"pandapower.networks.{function} is not a network")
    return net


def _json_file(path: Path) -> pp.pandapowerNet:
    try:
        return pp.from_json(str(path))
    except (UserWarning, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        # pandapower reports an unreadable file by raising UserWarning.

        raise NetworkLoadError(
            str(path),
            [
                Problem(
                    "unreadable_file",
                    "error",
                    "file",
                    (str(path),),
                    f"{path} is not a pandapower JSON network: {exc}",
                )
            ],
        ) from exc


def load_model(spec: str = DEFAULT_NETWORK, *, rules: Rules | None = None) -> GridModel:
    """Load the network a spec names, validate it, and derive its model."""
    net = load_network(spec)
    model_id = spec.split(":", 1)[1] if spec.startswith("builtin:") else None
    return model_from_net(net, model_id=model_id, rules=rules)


def model_from_net(
    net: pp.pandapowerNet, *, model_id: str | None = None, rules: Rules | None = None
) -> GridModel:
    """Validate a pandapower net and derive its model; problems are kept on the model."""
    return derive_model(net, model_id=model_id, rules=rules, problems=validate_net(net))
