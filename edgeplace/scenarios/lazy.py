"""Lazy references: an object named ``"package.module:qualified.name"``, imported on first use.

A scenario spec names its heavy parts (RLlib config builders, torch policies, Serve placers) this way,
so that listing scenarios, registering envs and building env configs never import torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Lazy:
    """The object at ``target`` (``"module:attr"`` or ``"module:Class.attr"``), imported on first use;
    calling a Lazy calls that object. Picklable (it holds only the string), so Ray can ship it.

    Raises:
        ValueError: ``target`` without exactly one ``:``.
    """

    target: str

    def __post_init__(self) -> None:
        module, sep, name = self.target.partition(":")
        if not (module and sep and name) or ":" in name:
            raise ValueError(f"lazy reference {self.target!r}: expected 'package.module:attribute'")

    def resolve(self) -> Any:
        """The referenced object. Raises ImportError / AttributeError naming ``target``."""
        return _resolve(self.target)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.resolve()(*args, **kwargs)


@cache
def _resolve(target: str) -> Any:
    module_name, _, qualname = target.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise ImportError(f"lazy reference {target!r}: cannot import {module_name!r}: {err}") from err
    for part in qualname.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            raise AttributeError(f"lazy reference {target!r}: {module_name} has no {qualname!r}") from None
    return value


def resolved(value: Any) -> Any:
    """``value`` itself, or the object it references if it is a :class:`Lazy`."""
    return value.resolve() if isinstance(value, Lazy) else value
