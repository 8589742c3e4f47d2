"""Vectorised fast path for JSON-lines ballot files in the canonical shapes.

Why: on large files of nearly distinct ballots (complete rankings, complete score ballots) decoding
every line with ``json`` builds millions of Python objects and is nearly all of the parse cost.
Ballot files are almost always written by a program in one fixed shape, e.g.::

    {"ranking": ["a", ["b", "c"], "d"]}      {"approve": ["a", "c"]}      {"scores": {"a": 4, "b": 0}}

(``json.dumps`` separators ``", "``/``": "`` or the compact ``","``/``":"``).  For such lines the
text is encoded and scanned with numpy a piece at a time (whole lines, small temporaries: on this
kind of virtual machine first-touch page faults of large fresh arrays cost more than the parsing):
quotes delimit the strings; a string with the bytes after it up to the next string (``", "``,
``"], ["``, ``": 4, "``…) is a *token*.  A file has few distinct tokens: each is looked up by a
64-bit fingerprint in a collision-free hash table and then compared part by part with its first
occurrence (exact: never by a hash alone), and classified once in Python (a name and the gap after
it: tie brackets, score value, where it may stand).  The rows are scattered into small matrices per
piece; the profile classes merge identical ballots.

Complete score ballots written by a program often have one more property: the same candidates in
the same order and one-digit scores, so every line has the first line's bytes except for the score
digits.  :func:`fixed_width_scores` handles such files first (no tokens at all): the text is
compared with the first line repeated (``memcmp``), after the score bytes have been copied out of
each line; each line's scores become one integer key, and the distinct keys are the profile rows.
Anything else, even one differing line, goes to :mod:`voting.scoretokens` (score and grade files
in any key order, partial, any integer range, spaces: cut at colons only), and failing that the
token way below.

Exactness: a line takes the fast route only if it matches the grammar exactly (no backslash, no
other whitespace, integer scores written plainly); every other non-blank line is decoded by
``json`` like the slow path and merged in.  Whenever anything is unusual — a bad line, an unknown
or repeated candidate, a score out of range, another ballot type, a control byte other than
``\\n``, a fingerprint collision — :func:`fast_profile` returns None and the caller runs the exact
slow path on the whole input, so errors (message, line, field) are those of the slow path by
construction.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .profiles import ApprovalProfile, Profile, RankedProfile, ScoreProfile

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]

# Ballot key -> kind handled by the token path (grades: only voting.scoretokens; yes/no: the json path).
_KEYS = {"ranking": "ranked", "approve": "approval", "scores": "score"}
_KEY_OF = {v: k for k, v in _KEYS.items()}
# str.splitlines() also splits on these; the byte scan only knows "\n", so such files go the slow way.
_LINE_BREAKS = ("\x85", "\u2028", "\u2029")
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)

# Gap classes.  Roles: after the ballot key (K*), between two names (S, O, C, CO, V), after the last
# name (E*).  Ranked: S = ", " (next tier, or same tier inside a tie), O = ", [" (opens a tie),
# C = "], " (closes one), CO = "], [".
_K0, _K1, _S, _O, _C, _CO, _E0, _E1, _V, _VE, _KS = range(11)
_SEPS = (", ", ",")
_COLONS = (": ", ":")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")
_BAD = -1


def _gap_class(gap: bytes, kind: str) -> tuple[int, int]:
    """(class, integer value) of one distinct gap; class -1 if the gap is not in the grammar."""
    try:
        s = gap.decode("ascii")
    except UnicodeDecodeError:
        return _BAD, 0
    if kind == "score":
        if s in (": {", ":{"):
            return _KS, 0
        for colon in _COLONS:
            if not s.startswith(colon):
                continue
            rest = s[len(colon):]
            cls, number = _BAD, ""
            if rest.endswith("}}"):
                cls, number = _VE, rest[:-2]
            else:
                for sep in _SEPS:
                    if rest.endswith(sep):
                        cls, number = _V, rest[: -len(sep)]
                        break
            if cls != _BAD and _INT.fullmatch(number):
                return cls, int(number)
        return _BAD, 0
    table = {"]}": _E0}
    for colon in _COLONS:
        table[colon + "["] = _K0
    for sep in _SEPS:
        table[sep] = _S
    if kind == "ranked":
        table["]]}"] = _E1
        for colon in _COLONS:
            table[colon + "[["] = _K1
        for sep in _SEPS:
            table[sep + "["] = _O
            table["]" + sep] = _C
            table["]" + sep + "["] = _CO
    return table.get(s, _BAD), 0


_MULTS = [np.uint64(x) for x in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                                  0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x2545F4914F6CDD1D, 0x94D049BB133111EB)]


def _perfect_table(known: U64) -> tuple[np.uint64, np.uint64, U64, I64] | None:
    """A collision-free multiplicative hash table for the distinct values ``known`` (id = index).

    Returns (multiplier, shift, keys, ids); empty slots hold ``known[0]`` as key, which can never
    match there (that value lives in its own slot).  None if no table of at most 2**20 slots works.
    """
    k = known.size
    for bits in range(max(4, (2 * k - 1).bit_length()), 21):
        shift = np.uint64(64 - bits)
        for mult in _MULTS:
            slots = ((known * mult) >> shift).astype(np.int64)
            if np.unique(slots).size == k:
                keys = np.full(1 << bits, known[0], dtype=np.uint64)
                ids = np.full(1 << bits, -1, dtype=np.int64)
                keys[slots] = known
                ids[slots] = np.arange(k, dtype=np.int64)
                return mult, shift, keys, ids
    return None


def _lookup(table: tuple[np.uint64, np.uint64, U64, I64] | None, x: U64) -> tuple[I64, NDArray[np.bool_]]:
    """Ids of ``x`` in a table from :func:`_perfect_table`, and which values were found."""
    if table is None:
        return np.zeros(x.size, dtype=np.int64), np.zeros(x.size, dtype=bool)
    mult, shift, keys, ids = table
    hashed = x * mult
    hashed >>= shift
    slots = hashed.view(np.int64)  # < 2**20: the same value as int64
    return ids[slots], keys[slots] == x


def _token_parts(w8: U64, start: I64, end: I64) -> list[U64 | None]:
    """Integer parts that together determine the bytes ``[start, end)`` of each token exactly.

    A token is a string's content, its closing quote and the gap up to the next string.  Parts:
    its first 8 bytes (zero-padded when shorter: the bytes hold no NUL), its last 8 bytes (0 when
    it has at most 8), its length, then the full 8-byte words in between (0 where absent).  A part
    that is 0 for every token of the chunk is None.
    """
    length = end - start
    shortest, longest = int(length.min()), int(length.max())
    first = w8[start]
    if shortest < 8:
        first &= _MASKS[np.minimum(length, 8)]
    parts: list[U64 | None] = [first, None, length.view(np.uint64)]
    if longest > 8:
        tail = w8[end - 8] if shortest >= 8 else w8[np.maximum(end - 8, 0)]
        parts[1] = tail if shortest > 8 else np.where(length > 8, tail, np.uint64(0))
        for j in range(1, (longest + 7) // 8 - 1):
            inside = length >= 8 * j + 9  # word j lies before the last word's start
            parts.append(np.where(inside, w8[np.minimum(start + 8 * j, w8.size - 1)], np.uint64(0)))
    return parts


def _fingerprint(parts: list[U64 | None]) -> U64:
    """XOR of the parts times distinct odd constants (a zero part adds nothing, so chunks agree on
    every token).  Weak against crafted names on purpose: every token is verified afterwards."""
    fingerprint: U64 | None = None
    for j, part in enumerate(parts):
        if part is None:
            continue
        if fingerprint is None:
            fingerprint = part * _MULTS[j % len(_MULTS)]
        else:
            mixed = part * _MULTS[j % len(_MULTS)]
            fingerprint ^= mixed
    assert fingerprint is not None
    return fingerprint


class _Tokens:
    """The distinct tokens of one file, found chunk by chunk.

    Each token is looked up by fingerprint in a collision-free hash table (ids in order of first
    appearance) and then compared part by part with its id's first occurrence, so a fingerprint
    collision (or a crafted name) is caught: :meth:`ids` returns None and the exact json path
    runs instead.  A new token is classified once, in Python: the ballot key with its gap, or a
    name with the gap after it (which role it may play, its score value).
    """

    def __init__(self, kind: str, score_range: tuple[int, int]) -> None:
        self.kind = kind
        self.key = _KEY_OF[kind]
        self.low, self.high = score_range
        self.allowed = _allowed(kind)
        self.known = np.zeros(0, dtype=np.uint64)
        self.table: tuple[np.uint64, np.uint64, U64, I64] | None = None
        self.rep_parts: list[U64] = []
        self.cls: list[int] = []
        self.val: list[int] = []
        self.name: list[int] = []  # -1: the ballot key (or bad)
        self.ok: dict[int, list[bool]] = {0: [], 1: [], 2: []}
        self.names: list[str] = []
        self.name_index: dict[str, int] = {}
        self.arrays: dict[str, NDArray[Any]] = {}

    def ids(self, padded: NDArray[np.uint8], w8: U64, start: I64, end: I64) -> I64 | None:
        parts = _token_parts(w8, start, end)
        fingerprint = _fingerprint(parts)
        ids, found = _lookup(self.table, fingerprint)
        if not found.all():
            missing = np.flatnonzero(~found)
            new, at = np.unique(fingerprint[missing], return_index=True)
            by_appearance = np.argsort(at)  # names numbered in order of appearance
            new, local = new[by_appearance], missing[at[by_appearance]]
            self._add(new, [None if p is None else p[local] for p in parts], padded, start[local], end[local])
            if self.table is None:
                return None
            ids, found = _lookup(self.table, fingerprint)
        for j in range(max(len(parts), len(self.rep_parts))):
            part = parts[j] if j < len(parts) else None
            rep = self.rep_parts[j][ids] if j < len(self.rep_parts) else None
            if part is None and rep is not None and rep.any():
                return None
            if part is not None and not np.array_equal(part, rep if rep is not None else 0):
                return None
        return ids

    def _add(self, new: U64, parts: list[U64 | None], padded: NDArray[np.uint8], start: I64, end: I64) -> None:
        old = self.known.size
        self.known = np.concatenate([self.known, new])
        for j in range(max(len(parts), len(self.rep_parts))):
            have = self.rep_parts[j] if j < len(self.rep_parts) else np.zeros(old, dtype=np.uint64)
            part = parts[j] if j < len(parts) else None
            add = part if part is not None else np.zeros(new.size, dtype=np.uint64)
            if j < len(self.rep_parts):
                self.rep_parts[j] = np.concatenate([have, add])
            else:
                self.rep_parts.append(np.concatenate([have, add]))
        self.table = _perfect_table(self.known) if self.known.size <= 4096 else None
        for s, e in zip(start.tolist(), end.tolist(), strict=True):
            string_bytes, _, gap = padded[s:e].tobytes().partition(b'"')
            string = string_bytes.decode("utf-8")
            cls, val = _gap_class(gap, self.kind)
            if self.kind == "score" and cls in (_V, _VE) and not self.low <= val <= self.high:
                cls = _BAD  # out of range: the line goes the json way, which rejects it
            self.cls.append(cls)
            self.val.append(val)
            key_like = cls in self.allowed[0]
            self.ok[0].append(key_like and string == self.key)
            self.ok[1].append(not key_like and cls in self.allowed[1])
            self.ok[2].append(not key_like and cls in self.allowed[2])
            if key_like:
                self.name.append(-1)
            else:
                self.name.append(self.name_index.setdefault(string, len(self.names)))
                if self.name[-1] == len(self.names):
                    self.names.append(string)
        self.arrays = {}

    def array(self, what: str) -> NDArray[Any]:
        if what not in self.arrays:
            source = {"cls": self.cls, "val": self.val, "name": self.name, "ok0": self.ok[0], "ok1": self.ok[1],
                      "ok2": self.ok[2]}[what]
            self.arrays[what] = np.array(source, dtype=bool if what.startswith("ok") else np.int64)
        return self.arrays[what]


def _allowed(kind: str) -> dict[int, tuple[int, ...]]:
    """Gap classes allowed after the key (role 0), between two names (1) and after the last (2)."""
    if kind == "score":
        return {0: (_KS,), 1: (_V,), 2: (_VE,)}
    if kind == "approval":
        return {0: (_K0,), 1: (_S,), 2: (_E0,)}
    return {0: (_K0, _K1), 1: (_S, _O, _C, _CO), 2: (_E0, _E1)}


_PIECE = 1 << 20


def _utf8(text: str) -> tuple[NDArray[np.uint8], int] | None:
    """The UTF-8 bytes of ``text`` in a numpy array with 16 zero bytes of padding, and their count.

    ASCII text is encoded a piece at a time into the array: one large ``bytes`` object would cost
    a page fault per 4 kB on first touch (numpy's large arrays get huge pages), which on this kind
    of virtual machine costs more than the encoding itself.  None if the text cannot be encoded.
    """
    if text.isascii():
        n = len(text)
        out = np.empty(n + 16, dtype=np.uint8)
        for a in range(0, n, _PIECE):
            piece = text[a : a + _PIECE].encode("ascii")
            out[a : a + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        out[n:] = 0
        return out, n
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    out = np.zeros(len(raw) + 16, dtype=np.uint8)
    out[: len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    return out, len(raw)


def fast_profile(
    text: str,
    candidates: tuple[str, ...] | None,
    score_range: tuple[int, int],
    kind: str | None,
    decode: Any,
    weights: I64 | None = None,
    piece_chars: int = 1 << 19,
    grade_scale: tuple[str, ...] | None = None,
) -> Profile | None:
    """The profile of ``text``, or None when the exact slow path must run (see module docstring).

    ``weights``: voters per line (``\n``-separated lines of ``text``), default 1 each.
    ``piece_chars``: the text is processed in pieces of about this many characters (whole lines).
    ``decode`` is the slow path's strict JSON decoder (duplicate keys raise), used for the lines
    that do not have the fast shape.  The caller has checked the options (score range, grade scale,
    candidate list) already.

    The text is encoded and tokenised a piece at a time so that temporaries stay small (cached, and
    no page faults on fresh memory, which on this kind of virtual machine cost more than the
    parsing); only the result matrices are large.
    """
    # Score and grade files in any other shape: colon tokens (voting.scoretokens); pieces of at most
    # 128 k characters there (its temporaries are per token, and then they stay in cache).
    from .scoretokens import colon_token_scores  # that module builds on this one

    if kind in (None, "grades") and grade_scale is not None and '"grades"' in text[:4096]:
        graded = colon_token_scores(text, candidates, score_range, weights, min(piece_chars, 1 << 17), grade_scale)
        if graded is not None:
            return graded
    if kind is not None and kind not in _KEY_OF:
        return None
    if kind in (None, "score"):
        fixed = fixed_width_scores(text, candidates, score_range, decode, weights, piece_chars)
        if fixed is not None:
            return fixed
        if '"scores"' in text[:4096]:
            scores = colon_token_scores(text, candidates, score_range, weights, min(piece_chars, 1 << 17))
            if scores is not None:
                return scores
    if not text.isascii() and any(ch in text for ch in _LINE_BREAKS):
        return None
    tokens: _Tokens | None = None
    blocks: list[tuple[NDArray[np.bool_], NDArray[Any]]] = []  # per piece: its fast rows
    fast_index: list[I64] = []  # line number of each fast row
    row_lens: list[I64] = []
    odd_lines: list[str] = []
    odd_index: list[int] = []
    cap = 8  # name columns; column 0 receives the ballot keys (and is dropped), name i is column i + 1
    table_dtype: Any = np.int16
    first_line = -1
    line0 = 0
    for piece in _pieces(text, piece_chars):
        encoded = _utf8(piece)
        if encoded is None:
            return None
        padded, n = encoded
        b = padded[:n]
        newlines = np.flatnonzero(b < 32)
        if not (b[newlines] == 10).all():
            return None  # tabs, carriage returns, other control bytes: slow path
        # w8[p] = the 8 bytes at offset p (an unaligned, overlapping view of the same buffer).
        w8: U64 = np.ndarray(shape=(n + 8,), dtype="<u8", buffer=padded, strides=(1,))
        starts = np.concatenate([[0], newlines + 1]).astype(np.int64)
        ends = np.concatenate([newlines, [n]]).astype(np.int64)
        l0, l1 = line0, line0 + starts.size
        line0 = l1
        here = ends > starts
        if first_line < 0 and here.any():
            first_line = l0 + int(np.argmax(here))
            if kind is None:
                head = padded[starts[first_line - l0] : ends[first_line - l0]].tobytes()
                found = head[2 : head.find(b'"', 2)].decode("utf-8", "replace") if head.startswith(b'{"') else ""
                if found not in _KEYS:
                    return None
                kind = _KEYS[found]
        if first_line < 0:
            continue
        assert kind is not None
        if tokens is None:
            tokens = _Tokens(kind, score_range)
            if kind == "score" and not -(2**15) <= score_range[0] <= score_range[1] < 2**15:
                table_dtype = np.int64
        suspect = np.zeros(starts.size, dtype=bool)  # lines with a backslash: the json way
        if piece.find("\\") >= 0:
            suspect[np.searchsorted(newlines, np.flatnonzero(b == 92))] = True
        chunk = _chunk(tokens, padded, w8, starts, ends, here, suspect)
        if chunk is None:
            return None
        ok_lines, lens, codes, vals = chunk
        if l0 <= first_line < l1 and not ok_lines[first_line - l0]:
            return None  # the first ballot fixes the type: let the slow path look at it
        cap = max(cap, len(tokens.names))
        cells = np.repeat(np.arange(0, lens.size * (cap + 1), cap + 1), lens + 1)
        cells += codes
        present = np.zeros((lens.size, cap + 1), dtype=bool)
        table = np.zeros((lens.size, cap + 1), dtype=table_dtype)
        present.ravel()[cells] = True
        table.ravel()[cells] = vals
        blocks.append((present, table))
        fast_index.append(l0 + np.flatnonzero(ok_lines))
        row_lens.append(lens)
        for i in np.flatnonzero(here & ~ok_lines).tolist():
            odd_lines.append(padded[starts[i] : ends[i]].tobytes().decode("utf-8"))
            odd_index.append(l0 + i)
    if tokens is None or kind is None:
        return None  # only blank lines
    width = cap + 1
    present = np.concatenate([p if p.shape[1] == width else np.pad(p, ((0, 0), (0, width - p.shape[1])))
                              for p, _ in blocks])[:, 1:]
    table = np.concatenate([t if t.shape[1] == width else np.pad(t, ((0, 0), (0, width - t.shape[1])))
                            for _, t in blocks])[:, 1:]
    row_len = np.concatenate(row_lens)
    if weights is None:
        weights, weights_odd = np.ones(row_len.size, dtype=np.int64), np.ones(len(odd_index), dtype=np.int64)
    else:
        weights, weights_odd = weights[np.concatenate(fast_index)], weights[np.array(odd_index, dtype=np.int64)]
    return _assemble(kind, candidates, score_range, decode, odd_lines, tokens.names, present, table, row_len,
                     weights, weights_odd)


def _score_template(line: str, decode: Any) -> tuple[list[str], list[int]] | None:
    """Names and value offsets of a score ballot line written exactly as ``json.dumps`` writes it
    (default ``", "``/``": "`` or compact separators, ASCII escapes) with one-digit scores; else None."""
    try:
        item = decode(line)
    except Exception:
        return None  # malformed, duplicate keys…: the other paths deal with it
    if type(item) is not dict or list(item) != ["scores"]:
        return None
    payload = item["scores"]
    if type(payload) is not dict or not payload:
        return None
    if any(type(v) is not int or not 0 <= v <= 9 for v in payload.values()):
        return None
    for sep, colon in ((", ", ": "), (",", ":")):
        text = '{"scores"' + colon + "{"
        offsets = []
        for i, (name, value) in enumerate(payload.items()):
            text += (sep if i else "") + json.dumps(name) + colon
            offsets.append(len(text))
            text += str(value)
        if text + "}}" == line:
            return list(payload), offsets
    return None


def fixed_width_scores(
    text: str,
    candidates: tuple[str, ...] | None,
    score_range: tuple[int, int],
    decode: Any,
    weights: I64 | None = None,
    piece_chars: int = 1 << 19,
) -> ScoreProfile | None:
    """The profile of a score ballot file whose lines all have the first line's bytes except for
    the one-digit scores, or None (then the token path and, failing that, the json path run).

    This is the usual shape of complete score ballots written by a program: the same candidates in
    the same order, ``json.dumps`` formatting, scores 0–9.  The first line is decoded by the strict
    decoder and must be exactly ``json.dumps``' rendering of itself (default or compact separators,
    one-digit scores); it is the template.  The text is then compared with the template repeated,
    byte for byte (``memcmp`` speed), after the score bytes of each line have been copied out and
    replaced by the template's — so every line is the template with other digits in the score
    places, i.e. a valid ballot with the same names.  A score byte that is not a digit in the
    declared range, a line of another length, another byte anywhere, non-ASCII text or an unknown
    candidate: None.  Works a piece of whole lines at a time (small temporaries, no page faults).
    """
    if not text or not text.isascii():
        return None
    first = text.find("\n")
    if first < 0:
        first = len(text)
    template = _score_template(text[:first], decode)
    if template is None:
        return None
    names, offsets = template
    width = first + 1  # bytes per line with its newline
    size = len(text) - text.endswith("\n")
    if (size + 1) % width:
        return None
    n = (size + 1) // width
    if weights is not None and weights.size != n:
        return None
    low, high = score_range
    lowest, highest = 48 + max(low, 0), 48 + min(high, 9)  # allowed score bytes
    if lowest > highest:
        return None
    if candidates is None:
        cands = tuple(sorted(names))
    elif all(name in candidates for name in names):
        cands = candidates
    else:
        return None  # unknown candidate: the json path names it
    m, k = len(cands), len(names)
    index = {c: i for i, c in enumerate(cands)}
    columns = [index[name] for name in names]
    # Each line becomes one int64 key: its scores in candidate order as digits of base `radix`, so
    # that sorting the keys sorts the rows lexicographically (the order profiles keep their rows in).
    radix = highest - lowest + 1
    if radix**k >= 2**62:
        return None
    by_candidate = [offsets[i] for i in sorted(range(k), key=columns.__getitem__)]
    where = np.array(by_candidate, dtype=np.int64)
    line = bytearray(text[:first] + "\n", "ascii")
    for p in offsets:
        line[p] = 48
    rows = max(1, piece_chars // width)
    expected = bytes(line) * rows
    keys = np.empty(n, dtype=np.int64)
    for a in range(0, n, rows):
        b = min(n, a + rows)
        buf = bytearray(text[a * width : b * width], "ascii")
        if len(buf) < (b - a) * width:
            buf += b"\n"  # the last line without its newline
        block = np.frombuffer(buf, dtype=np.uint8).reshape(b - a, width)
        digits = block[:, where]
        block[:, where] = 48
        if buf != (expected if b - a == rows else bytes(line) * (b - a)):
            return None
        if int(digits.min()) < lowest or int(digits.max()) > highest:
            return None
        digits -= lowest  # score minus the smallest allowed one
        key = keys[a:b]
        key[:] = digits[:, 0]
        for j in range(1, k):
            key *= radix
            key += digits[:, j]
    if weights is None:
        merged, counts = np.unique(keys, return_counts=True)
        summed = counts.astype(np.int64)
    else:
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
        merged = sorted_keys[starts]
        summed = np.add.reduceat(weights[order].astype(np.int64), starts)
    u = merged.size
    scores = np.full((u, m), low, dtype=np.int64)
    scored = np.zeros((u, m), dtype=bool)
    rest = merged
    offset = lowest - 48
    for c in sorted(columns, reverse=True):  # the last digit is the candidate listed last
        rest, digit = np.divmod(rest, radix)
        scores[:, c] = digit
        if offset:
            scores[:, c] += offset
        scored[:, c] = True
    return ScoreProfile(cands, scores, scored, summed, low, high)


def _pieces(text: str, size: int) -> Iterator[str]:
    """``text`` in pieces of about 512 k characters cut at newlines (dropped): whole lines, and
    as many lines in all as ``text.split("\\n")``."""
    pos = 0
    while True:
        cut = text.find("\n", pos + size)
        if cut < 0:
            yield text[pos:]
            return
        yield text[pos:cut]
        pos = cut + 1


def _chunk(
    tokens: _Tokens,
    padded: NDArray[np.uint8],
    w8: U64,
    starts: I64,
    ends: I64,
    nonblank: NDArray[np.bool_],
    suspect: NDArray[np.bool_],
) -> tuple[NDArray[np.bool_], I64, I64, I64] | None:
    """Tokenise a run of lines: which lines have the fast shape, and for those their names.

    Returns (fast lines, names per fast line, column per string (provisional name id + 1; 0 = key),
    value per string: the tier for rankings, the score for scores) or None (use the json path).
    """
    lo, hi = int(starts[0]), int(ends[-1])
    quotes = np.flatnonzero(padded[lo:hi] == 34)
    if lo:
        quotes += lo
    qcount = np.diff(np.append(np.searchsorted(quotes, starts), quotes.size))
    good = nonblank & ~suspect & (qcount >= 4) & (qcount % 2 == 0)
    good &= (padded[starts] == 123) & (padded[np.maximum(ends - 1, 0)] == 125) & (padded[starts + 1] == 34)
    if not good.all():
        quotes = quotes[np.repeat(good, qcount)]
        qcount = np.where(good, qcount, 0)
    if quotes.size == 0:
        return good, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Tokens: each string's content + closing quote + the gap up to the next string (or line end).
    tok_start = quotes[0::2] + 1
    gl = np.flatnonzero(good)
    nstr = qcount[gl] // 2  # strings per line: the ballot key, then names
    first = np.cumsum(nstr) - nstr
    last = first + nstr - 1
    tok_end = np.empty_like(tok_start)
    tok_end[:-1] = tok_start[1:]
    tok_end -= 1
    tok_end[last] = ends[gl]
    tid = tokens.ids(padded, w8, tok_start, tok_end)
    if tid is None:
        return None
    string_ok = tokens.array("ok1")[tid]
    string_ok[first] = tokens.array("ok0")[tid[first]]
    string_ok[last] = tokens.array("ok2")[tid[last]]
    values: I64
    if tokens.kind == "ranked":
        cls = tokens.array("cls")
        if np.isin(cls, [_K1, _O, _C, _CO, _E1]).any():
            values = _tie_tiers(cls[tid] + 1, first, nstr, string_ok)
        else:  # no tie anywhere: tier = position after the key
            values = np.arange(tid.size) - np.repeat(first + 1, nstr)
    else:
        values = tokens.array("val")[tid]
    line_ok = np.ones(gl.size, dtype=bool)
    if not string_ok.all():
        bad = np.flatnonzero(~string_ok)
        line_ok[np.searchsorted(first, bad, side="right") - 1] = False
    ok_lines = np.zeros(good.size, dtype=bool)
    ok_lines[gl[line_ok]] = True
    keep = np.repeat(line_ok, nstr)
    codes = tokens.array("name")[tid] + 1  # the column: 0 for the key
    if not line_ok.all():
        codes, values = codes[keep], values[keep]
    return ok_lines, nstr[line_ok] - 1, codes, values


def _tie_tiers(gcls: I64, first: I64, nstr: I64, string_ok: NDArray[np.bool_]) -> I64:
    """Tier of every string of rankings with ties; marks misplaced brackets in ``string_ok``.

    Tie state: +1 where a tie opens, -1 where it closes; the state before each gap must suit it
    (a tie opens only outside one, closes only inside one).  A name's tier = the tier breaks before
    it in its line, where ", " inside a tie is no break.
    """
    delta = np.zeros(12, dtype=np.int64)
    delta[[_K1 + 1, _O + 1]] = 1
    delta[[_C + 1, _E1 + 1]] = -1
    d = delta[gcls]
    after = np.cumsum(d)
    after -= np.repeat(after[first] - d[first], nstr)  # state after each gap, within its line
    before = after - d
    need = np.full(12, -1, dtype=np.int64)  # -1: either state
    need[[_O + 1, _E0 + 1]] = 0
    need[[_C + 1, _CO + 1, _E1 + 1]] = 1
    req = need[gcls]
    fine = (before == req) | ((req < 0) & (before >= 0) & (before <= 1))
    fine[first] = True
    string_ok &= fine
    brk = np.where((gcls == _S + 1) & (before == 1), 0, 1)
    brk[first] = 0
    excl = np.cumsum(brk) - brk
    tiers: I64 = excl - np.repeat(excl[first], nstr)
    return tiers


def _odd_rows(
    kind: str, lines: list[str], decode: Any, score_range: tuple[int, int]
) -> list[tuple[list[str], list[int]] | None] | None:
    """Decode the lines without the fast shape like the slow path; None if any is not a valid ballot."""
    key = _KEY_OF[kind]
    low, high = score_range
    rows: list[tuple[list[str], list[int]] | None] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            rows.append(None)  # blank: skipped
            continue
        try:
            item = decode(stripped)
        except Exception:
            return None
        if type(item) is not dict or key not in item or any(k != key and k not in ("id", "receipt") for k in item):
            return None
        payload = item[key]
        names: list[str] = []
        vals: list[int] = []
        if kind == "score":
            if type(payload) is not dict or not payload:
                return None
            for name, v in payload.items():
                if type(v) is not int or not low <= v <= high:
                    return None
                names.append(name)
                vals.append(v)
        else:
            if type(payload) is not list or not payload:
                return None
            for tier, entry in enumerate(payload):
                if type(entry) is str:
                    names.append(entry)
                    vals.append(tier if kind == "ranked" else 0)
                elif kind == "ranked" and type(entry) is list and entry and all(type(x) is str for x in entry):
                    names.extend(entry)
                    vals.extend([tier] * len(entry))
                else:
                    return None
        rows.append((names, vals))
    return rows


def _assemble(
    kind: str,
    candidates: tuple[str, ...] | None,
    score_range: tuple[int, int],
    decode: Any,
    odd_lines: list[str],
    names: list[str],
    present: NDArray[np.bool_],
    table: NDArray[Any],
    row_len: I64,
    fast_weights: I64,
    odd_weights: I64,
) -> Profile | None:
    """Merge the fast rows (columns = provisional name ids) and the json-decoded odd rows, check
    them (unknown or repeated candidates), order the columns as the candidates, build the profile."""
    decoded = _odd_rows(kind, odd_lines, decode, score_range)
    if decoded is None:
        return None
    odd = [row for row in decoded if row is not None]
    odd_weights = odd_weights[np.array([row is not None for row in decoded], dtype=bool)]
    if not np.array_equal(np.count_nonzero(present, axis=1), row_len):
        return None  # a candidate twice in one ballot
    used = np.count_nonzero(present, axis=0) > 0
    fast_names = [names[i] for i in np.flatnonzero(used).tolist() if i < len(names)]
    odd_names = [name for row_names, _ in odd for name in row_names]
    cands = tuple(sorted(set(fast_names).union(odd_names))) if candidates is None else candidates
    index = {c: i for i, c in enumerate(cands)}
    if any(x not in index for x in fast_names) or any(x not in index for x in odd_names):
        return None  # unknown candidate: the slow path names it
    m = len(cands)
    low, _ = score_range
    fill = low if kind == "score" else 0
    # Column of each candidate among the provisional ones (an all-empty column if none).
    empty = present.shape[1]
    column = [empty] * m
    for i, x in enumerate(names[: present.shape[1]]):
        if x in index:
            column[index[x]] = i
    if column != list(range(m)):
        present = np.concatenate([present, np.zeros((present.shape[0], 1), dtype=bool)], axis=1)[:, column]
        table = np.concatenate([table, np.full((table.shape[0], 1), fill, dtype=table.dtype)], axis=1)[:, column]
    else:  # names met in candidate order (the usual case): no copy
        present, table = present[:, :m], table[:, :m]
    if odd:
        odd_present = np.zeros((len(odd), m), dtype=bool)
        odd_table = np.full((len(odd), m), fill, dtype=table.dtype)
        for r, (row_names, vals) in enumerate(odd):
            for x, v in zip(row_names, vals, strict=True):
                if odd_present[r, index[x]]:
                    return None  # a candidate twice in one ballot
                odd_present[r, index[x]] = True
                odd_table[r, index[x]] = v
        present = np.concatenate([present, odd_present])
        table = np.concatenate([table, odd_table])
    weights = np.concatenate([fast_weights, odd_weights])
    if present.shape[0] == 0:
        return None
    if kind == "approval":
        return ApprovalProfile.build(cands, present, weights)
    if kind == "score":
        if low != 0:  # unscored cells hold 0 so far
            table[~present] = low
        return ScoreProfile.build(cands, table, present, weights, low, score_range[1])
    ntiers = np.where(present, table, -1).max(axis=1) + 1
    table = np.where(present, table, ntiers[:, None].astype(np.int16))
    return RankedProfile.build(cands, table, present, weights)
