"""The GenAI edge dataset shipped as package data, and the short names of its topologies.

``edgeplace/data/genai_edge`` holds ``Server1`` .. ``Server4`` byte for byte as published (MIT licence,
``LICENSE`` and ``PROVENANCE.md`` beside them). ``genai-edge:S1`` .. ``genai-edge:S4`` name them;
``genai-edge:DIR`` names any directory of the same format (a directory called ``S1`` is ``./S1``).
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from edgeplace.topology.errors import TopologyError

#: Short name -> directory of the shipped topologies (regions in the paper: Switzerland, UK, Germany, Milan).
SHIPPED_GENAI_EDGE = {"S1": "Server1", "S2": "Server2", "S3": "Server3", "S4": "Server4"}

#: The two forms of a ``genai-edge:`` URI, for error messages.
GENAI_EDGE_FORMS = (
    "genai-edge:S1 .. genai-edge:S4 (shipped with edgeplace) or genai-edge:DIR (a dataset directory)"
)

_SHORT_NAME = re.compile(r"S[0-9]+")


def shipped_genai_edge_root() -> Path:
    """``edgeplace/data/genai_edge`` where the package is installed (``Server1`` .. ``Server4``)."""
    root = resources.files("edgeplace") / "data" / "genai_edge"
    if not isinstance(root, Path):  # e.g. a zip import: the loader reads files from a directory
        raise TopologyError(f"the shipped dataset is not on the file system ({root}); use {GENAI_EDGE_FORMS}")
    return root


def is_short_name(location: str) -> bool:
    """Whether a ``genai-edge:`` location is a short name (``S`` and a number), known or not."""
    return _SHORT_NAME.fullmatch(location) is not None


def genai_edge_directory(location: str | Path) -> Path:
    """The directory a ``genai-edge:`` location names: a short name (a ``str`` such as ``"S1"``) is a
    shipped topology; any other string or a ``Path`` is a directory (relative: to the working directory).

    Raises:
        TopologyError: an unknown short name; the message names both forms.
    """
    if isinstance(location, Path) or not is_short_name(location):
        return Path(location)
    if location not in SHIPPED_GENAI_EDGE:
        raise TopologyError(
            f"unknown shipped topology {location!r} (a directory named {location} is ./{location}); "
            f"use {GENAI_EDGE_FORMS}"
        )
    return shipped_genai_edge_root() / SHIPPED_GENAI_EDGE[location]
