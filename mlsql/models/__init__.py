"""The model types, one module (or a family of them) per module of this package.

Every module here other than the shared ones (base, option_spec, classes, compile, registry,
history, and any whose name starts with '_') may declare `MODEL_TYPES: tuple[ModelType, ...]`;
model_types() finds them all, so adding a model type is one module here and its scorer under
udfs/models/.
"""

from __future__ import annotations

from functools import cache

from mlsql.core.discovery import plugin_modules
from mlsql.errors import OptionError, did_you_mean
from mlsql.models.base import ModelType

_SHARED = frozenset({"base", "option_spec", "classes", "compile", "registry", "history"})


@cache
def model_types() -> dict[str, ModelType]:
    """Every registered model type by name, in module order (the first module's first)."""
    found: dict[str, ModelType] = {}
    where: dict[str, str] = {}
    for module in plugin_modules(__name__, _SHARED):
        for model_type in getattr(module, "MODEL_TYPES", ()):
            if not isinstance(model_type, ModelType):
                raise TypeError(f"{module.__name__}.MODEL_TYPES holds {model_type!r}, "
                                "not a ModelType")
            if model_type.name in found:
                raise RuntimeError(f"model type {model_type.name!r} is declared twice: in "
                                   f"{where[model_type.name]} and {module.__name__}")
            found[model_type.name] = model_type
            where[model_type.name] = module.__name__
    return found


def model_type(name: str) -> ModelType:
    """The model type called `name` (case-insensitive); OptionError names the known ones."""
    types = model_types()
    key = name.lower()
    if key not in types:
        raise OptionError(f"unknown model_type {name!r}{did_you_mean(key, types)}; one of: "
                          + ", ".join(types))
    return types[key]
