"""One configuration for every classifier and assessment threshold.

The packaged ``thresholds.toml`` holds the defaults with their sources; a user TOML file overrides any key
(deep merge). :func:`load_config` returns plain nested dictionaries.
"""

from __future__ import annotations

import copy
import math
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

#: Environment variable naming a user TOML file that overrides the defaults.
CONFIG_ENV = "CALFWATCH_CONFIG"


def default_config() -> dict[str, Any]:
    """Return the packaged defaults as nested dictionaries (a fresh copy each call)."""
    text = resources.files("classifier").joinpath("thresholds.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_config(user_path: str | os.PathLike | None = None) -> dict[str, Any]:
    """Load the defaults, overridden by a user TOML file.

    Parameters
    ----------
    user_path : path-like, optional
        A TOML file whose keys override the defaults. When omitted, ``$CALFWATCH_CONFIG`` is used if set.

    Returns
    -------
    dict
        The merged configuration.

    Raises
    ------
    ValueError
        If the user file does not exist or is not valid TOML (message names the file).
    """
    config = default_config()
    path = user_path if user_path is not None else os.environ.get(CONFIG_ENV)
    if not path:
        return config
    path = Path(path)
    try:
        override = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    _check_override(config, override, "", path)
    return _merge(config, override)


def _check_override(default: dict[str, Any], override: dict[str, Any], where: str, path: Path) -> None:
    """Refuse keys the defaults do not have and values of another kind, before any analysis runs.

    A misspelt key would otherwise be ignored silently, and a wrong type fail hours later.
    """
    for key, value in override.items():
        name = f"{where}.{key}" if where else key
        if key not in default:
            raise ValueError(f"{path}: unknown setting '{name}'")
        ref = default[key]
        if isinstance(ref, dict):
            if not isinstance(value, dict):
                raise ValueError(f"{path}: '{name}' must be a table of settings")
            _check_override(ref, value, name, path)
        elif not _same_kind(ref, value):
            raise ValueError(f"{path}: '{name}' must be {_kind(ref)} like the default "
                             f"{ref!r}, got {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _same_kind(ref: Any, value: Any) -> bool:
    if isinstance(ref, bool) or isinstance(ref, str):
        return type(value) is type(ref)
    if _is_number(ref):
        return _is_number(value)
    if isinstance(ref, list):
        return isinstance(value, list) and (not ref or all(_same_kind(ref[0], v) for v in value))
    return True


def _kind(ref: Any) -> str:
    if isinstance(ref, bool):
        return "true or false"
    if isinstance(ref, str):
        return "text"
    if isinstance(ref, list):
        return "a list"
    return "a finite number"
