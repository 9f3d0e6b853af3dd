"""Topology URIs: one string names any substrate, e.g. in configs and on the command line.

=====================================================  ==============================================
URI                                                    substrate
=====================================================  ==============================================
``genai-edge:S1`` .. ``genai-edge:S4``                 the GenAI edge topologies shipped with edgeplace
``genai-edge:DIR``                                     ``load_genai_edge(DIR).substrate``
``gml:FILE`` or ``gml:FILE?seed=S,largest_component=B``  ``load_gml`` (seed 0, largest_component false)
``waxman:nodes=N,alpha=A,beta=B,side_km=K,seed=S``     ``waxman`` (alpha 0.5, beta 0.2, side_km 100, seed 0)
``geo-radius:nodes=N,radius_km=R,side_km=K,seed=S``    ``geo_radius`` (side_km 1.5, seed 0)
``cell-cluster:towers=T,servers=K,radius_km=R,seed=S``  ``cell_cluster`` (radius_km 10, seed 0)
``synthetic:SIZE`` or ``synthetic:SIZE,seed=S``        ``synthetic_genai``; SIZE genai-small|-medium|-large
``testbed:NAME``                                       ``testbeds.testbed``; NAME bristol
=====================================================  ==============================================

Parameters without a default (``nodes``, ``radius_km``, ``towers``, ``servers``) are required.
Relative paths are taken from the current working directory; ``S`` and a number after ``genai-edge:``
is a short name, not a path (a directory called ``S1`` is ``genai-edge:./S1``). Booleans:
true/false/1/0/yes/no.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from edgeplace.topology.errors import TopologyError
from edgeplace.topology.genai_edge import load_genai_edge
from edgeplace.topology.generators import cell_cluster, geo_radius, synthetic_genai, waxman
from edgeplace.topology.gml import load_gml
from edgeplace.topology.shipped_data import is_short_name
from edgeplace.topology.substrate import Substrate
from edgeplace.topology.testbeds import testbed

#: The scheme of the GenAI edge dataset: a shipped short name (``S1`` .. ``S4``) or a directory.
GENAI_EDGE = "genai-edge"

_REQUIRED = object()
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class _Scheme:
    build: Callable[..., Substrate]
    params: Mapping[str, tuple[type, object]] = field(default_factory=dict)
    """Keyword parameters: name -> (type, default or ``_REQUIRED``)."""
    lead: str | None = None
    """Name of the leading value: ``"path"`` (ends at ``?``) or another name (ends at ``,``)."""


_SCHEMES: dict[str, _Scheme] = {
    GENAI_EDGE: _Scheme(lambda path: load_genai_edge(path).substrate, lead="path"),
    "gml": _Scheme(load_gml, {"seed": (int, 0), "largest_component": (bool, False)}, lead="path"),
    "waxman": _Scheme(
        waxman,
        {
            "nodes": (int, _REQUIRED),
            "alpha": (float, 0.5),
            "beta": (float, 0.2),
            "side_km": (float, 100.0),
            "seed": (int, 0),
        },
    ),
    "geo-radius": _Scheme(
        geo_radius,
        {
            "nodes": (int, _REQUIRED),
            "radius_km": (float, _REQUIRED),
            "side_km": (float, 1.5),
            "seed": (int, 0),
        },
    ),
    "cell-cluster": _Scheme(
        cell_cluster,
        {
            "towers": (int, _REQUIRED),
            "servers": (int, _REQUIRED),
            "radius_km": (float, 10.0),
            "seed": (int, 0),
        },
    ),
    "synthetic": _Scheme(synthetic_genai, {"seed": (int, 0)}, lead="size"),
    "testbed": _Scheme(testbed, lead="name"),
}


def absolute_topology_uri(uri: str) -> str:
    """``uri`` with a relative file path (``genai-edge:``, ``gml:``) made absolute against the current
    working directory; other URIs, short names (``genai-edge:S1``) and malformed URIs (left for the
    loader to reject) are unchanged."""
    scheme, sep, rest = uri.partition(":")
    if not sep or scheme not in _SCHEMES or _SCHEMES[scheme].lead != "path":
        return uri
    path, query, params = rest.partition("?")
    if not path or os.path.isabs(path) or (scheme == GENAI_EDGE and is_short_name(path)):
        return uri
    return f"{scheme}:{os.path.abspath(path)}{query}{params}"


def topology_schemes() -> list[str]:
    """The schemes a topology URI may have (one per loader or generator), sorted."""
    return sorted(_SCHEMES)


def parse_topology_uri(uri: str) -> tuple[str, dict[str, object]]:
    """Split a topology URI into its scheme and typed parameters, defaults filled in.

    Example: ``parse_topology_uri("waxman:nodes=20")`` ->
    ``("waxman", {"nodes": 20, "alpha": 0.5, "beta": 0.2, "side_km": 100.0, "seed": 0})``.

    Raises:
        TopologyError: unknown scheme, unknown / repeated / missing parameter, or a value of the wrong
            type; the error names the URI and the parameter.
    """
    scheme, colon, body = uri.partition(":")
    if not colon:
        raise TopologyError(f"expected 'scheme:...' with a scheme in {sorted(_SCHEMES)}", source=uri)
    spec = _SCHEMES.get(scheme)
    if spec is None:
        raise TopologyError(f"unknown scheme {scheme!r}; known: {sorted(_SCHEMES)}", source=uri)
    values: dict[str, object] = {}
    if spec.lead is not None:
        lead, _, body = body.partition("?" if spec.lead == "path" else ",")
        if not lead:
            raise TopologyError(f"missing {spec.lead}", source=uri, field=spec.lead)
        values[spec.lead] = lead
    for item in body.split(",") if body else []:
        key, equals, raw = (part.strip() for part in item.partition("="))
        if key not in spec.params:
            raise TopologyError(
                f"unknown parameter; {scheme!r} takes {list(spec.params)}", source=uri, field=key
            )
        if not equals:
            raise TopologyError("expected 'name=value'", source=uri, field=key)
        if key in values:
            raise TopologyError("parameter given twice", source=uri, field=key)
        values[key] = _convert(raw, spec.params[key][0], uri, key)
    for key, (_, default) in spec.params.items():
        if key not in values:
            if default is _REQUIRED:
                raise TopologyError("missing required parameter", source=uri, field=key)
            values[key] = default
    return scheme, values


def load_topology(uri: str) -> Substrate:
    """Build the substrate a topology URI names (see the module docstring for the schemes).

    Raises:
        TopologyError: a bad URI, or an error of the loader or generator (naming the URI, or the file).
    """
    scheme, params = parse_topology_uri(uri)
    try:
        return _SCHEMES[scheme].build(**params)
    except TopologyError as err:
        if err.source is not None:
            raise
        raise TopologyError(err.message, source=uri, field=err.field) from err


def _convert(raw: str, kind: type, uri: str, key: str) -> object:
    try:
        if kind is bool:
            return _BOOLEANS[raw.lower()]
        value = kind(raw)
    except (KeyError, ValueError):
        raise TopologyError(f"expected {kind.__name__}, got {raw!r}", source=uri, field=key) from None
    if kind is float and not np.isfinite(value):
        raise TopologyError(f"expected a finite number, got {raw!r}", source=uri, field=key)
    return value
