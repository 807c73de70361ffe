"""Reading an estate file (TOML): the I/O edge of ``loadsim.model.estate``, which turns the document into
HA pair groups."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from loadsim.errors import OptionsError


def read_estate_file(path: str) -> tuple[dict[str, Any], str]:
    """(parsed TOML document, file name) of an estate file; one-line OptionsError naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OptionsError(f"--estate {path}: no such file; give the path of an estate TOML file "
                           "(example: scenarios/estate-example.toml)") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise OptionsError(f"--estate {path}: cannot read it ({exc.__class__.__name__}); give a readable "
                           "UTF-8 TOML file") from None
    try:
        return tomllib.loads(text), p.name
    except tomllib.TOMLDecodeError as exc:
        raise OptionsError(f"--estate {path}: not valid TOML ({exc}); see scenarios/estate-example.toml") from None
