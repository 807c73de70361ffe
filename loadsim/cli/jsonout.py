"""The one JSON object a ``--json`` command prints on stdout, on success and on failure alike.

A script reads stdout and the exit code: on success it gets the command's object with ``"ok": true`` (plan's FAIL
verdict is an answer, so ``ok`` is true there and ``passed`` false; a sweep or comparison with a failed run says
``ok: false``); on failure (bad input, a failed check, an interrupt, an unexpected error) it gets
``{"ok": false, "command", "error", "exit_code"}`` and whatever the command knew (``check``: the report and the
FIPS handshakes), the exit code unchanged. Before, ``check --json`` printed nothing when the check failed.
"""

from __future__ import annotations

import json
from typing import Any

from loadsim.errors import mask_secrets

_printed = False


def emit(data: dict[str, Any], ok: bool | None = None, secrets: list[str | None] | None = None) -> None:
    """Print a command's JSON object on stdout, with ``ok`` first (*ok*, else the object's own, else true);
    remembered, so a failure after it adds none."""
    global _printed
    _printed = True
    said = data.get("ok", True) if ok is None else ok
    text = json.dumps({"ok": said, **{k: v for k, v in data.items() if k != "ok"}}, indent=2)
    print(mask_secrets(text, secrets or []), flush=True)


def reset() -> None:
    global _printed
    _printed = False


def emit_failure(command: str, error: str, exit_code: int, details: dict[str, Any] | None = None,
                 secrets: list[str] | None = None) -> None:
    """The failure object, unless the command already printed its own."""
    if _printed:
        return
    try:
        emit({"command": command, "error": error, "exit_code": exit_code, **(details or {})}, ok=False,
             secrets=list(secrets or []))
    except BrokenPipeError:  # the reader went away: nothing to tell it
        pass


def command_name(args: Any) -> str:
    """``check``, ``results show`` ...: the words a user typed."""
    return " ".join(str(w) for w in (getattr(args, "command", None), getattr(args, "action", None)) if w)


def wanted(args: Any) -> bool:
    return bool(getattr(args, "json", False))


