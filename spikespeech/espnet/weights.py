"""Strict, weights-only checkpoint loading (pure torch: no ESPnet import).

ESPnet's ``build_model_from_file`` loads with ``strict=False`` (and ``weights_only=False``),
so a checkpoint from another config silently leaves layers at their random init. Ours
refuses: every missing or unexpected key is an error naming the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from ..errors import SpikespeechError, first_line

# how torch.load(weights_only=True) refuses a pickled class or function
# ("Unsupported global: GLOBAL x.y", "unsupported GLOBAL x.y whose module x is blocked")
_UNSUPPORTED_GLOBAL = re.compile(r"unsupported global:?\s+(?:global\s+)?([\w.]+)", re.IGNORECASE)
# how load_state_dict names a shape mismatch (the same wording since torch 1.0)
_SIZE_MISMATCH = re.compile(r"size mismatch for ([\w.]+): copying a param with shape "
                            r"torch\.Size\(\[([\d, ]*)\]\) from checkpoint, the shape in current "
                            r"model is torch\.Size\(\[([\d, ]*)\]\)")


class CheckpointError(SpikespeechError):
    """A weights file that cannot be loaded into its model. ``reason`` is the problem alone
    (one line, without the path), for callers that name the file differently (a pack)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


def read_state_dict(path: str | Path, device: str = "cpu") -> dict[str, torch.Tensor]:
    """The state dict in ``path``, unpickled weights-only; anything else raises CheckpointError."""
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(path, "model file not found") from None
    except Exception as exc:  # unpickling errors differ across torch versions
        found = _UNSUPPORTED_GLOBAL.search(str(exc))
        if found:
            # PyTorch's message suggests weights_only=False, i.e. running the file's code: never
            reason = f"holds objects that are not weights ({found[1]}; refused to load them)"
        else:
            reason = f"not a loadable weights-only checkpoint ({type(exc).__name__})"
        raise CheckpointError(path, reason) from None
    if isinstance(state, dict) and "module" in state and isinstance(state["module"], dict):
        state = state["module"]  # deepspeed layout
    if not isinstance(state, dict) or not all(
            isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in state.items()):
        raise CheckpointError(path, f"not a state dict (a {type(state).__name__}, not named "
                                    "tensors)")
    return state


def load_state_dict_strict(model: torch.nn.Module, path: str | Path, device: str = "cpu") -> None:
    """Load ``path`` (a state dict) into ``model``; any key or shape mismatch raises
    CheckpointError (a ValueError). Keys are matched by ``load_state_dict`` itself, so the
    modules' load hooks (e.g. older attention layouts, :mod:`spikespeech.attention.spiking`)
    apply; on a mismatch the model is left partly loaded and must be discarded."""
    state = read_state_dict(path, device)
    try:
        incompatible = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # torch lists shape mismatches over many lines: name them in one
        shapes = _SIZE_MISMATCH.findall(str(exc))
        detail = (f"wrong shapes {_preview([f'{k} ({saved}) vs ({wanted})' for k, saved, wanted in shapes])}"
                  if shapes else first_line(str(exc)))
        raise CheckpointError(path, f"checkpoint does not match the model config: {detail}") from None
    problems = []
    if incompatible.missing_keys:
        problems.append(f"missing keys {_preview(incompatible.missing_keys)}")
    if incompatible.unexpected_keys:
        problems.append(f"unexpected keys {_preview(incompatible.unexpected_keys)}")
    if problems:
        raise CheckpointError(path, "checkpoint does not match the model config: "
                                    + "; ".join(problems))


def _preview(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return f"[{shown}{', …' if len(keys) > limit else ''}] ({len(keys)} in all)"
