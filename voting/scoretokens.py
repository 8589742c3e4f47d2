"""Score and grade ballot files in any key order, partial, wide or negative scores: colon tokens.

Why: :func:`voting.fastjsonl.fixed_width_scores` only takes files whose lines are the first line
with other digits.  Score files written otherwise (candidates in another order on every line,
partial ballots, two-digit or negative scores, extra spaces) went the general token path, which
finds every quote *and* every newline and needs three fingerprint parts per string (about 20x
the reference where complete files in the template shape get 45-70x); grade ballots went the
json path.

Here a piece of whole lines is cut at its colons only (one scan; half as many hits as quotes,
and no newline scan).  The bytes from one colon up to the next form a *token*::

    : {"b"            KN  the line's first name (after the ballot key)
    : 4, "a"          VN  a value, and the next name          (grades: ``: "good", "a"``)
    : 4}}\\n{"scores"  VE  the line's last value, the line break, the next line's ballot key
    : 4}}             VZ  the piece's last value (the piece ends there)

A file has few distinct tokens (values x names).  Each is read as 8-byte words (16 bytes per
gather), looked up by a fingerprint in a table that is collision-free for the known tokens and
compared word by word with the token of its slot (exact: never by a hash alone; pieces with a NUL
byte are declined, so the words fix the length too), and classified once in Python with the
regular expressions below (spaces allowed where JSON allows whitespace; anything else — a
backslash, a float, a score out of range, a grade not in the scale, a tab, a carriage return, a
colon inside a name, another key — is no class).  Every byte of a piece after its first colon
lies in a checked token, the bytes before it are checked as ``{"scores"``, and the token classes
must follow the grammar ``(KN VN* VE)* KN VN* VZ``: so every line is a valid ballot with exactly
those names and values.  A name twice in one line or a name not among the declared candidates:
None.  Any of this fails, anywhere: None, and the caller's general paths run (their errors are
the json path's).  Limit: at most 4096 distinct tokens (e.g. 40 candidates x a 0..100 range), and a
collision-free table must be found for them (up to 2**20 slots); beyond that, the general paths.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .fastjsonl import _LINE_BREAKS, _MASKS, _MULTS, _perfect_table, _pieces, _utf8
from .profiles import GradeProfile, ScoreProfile

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]

# Classes ordered so that one comparison finds the rare ones (the piece's last token, bad tokens).
_KN, _VN, _VE, _VZ, _BAD = range(5)
_NAME = r'"([^"\\\x00-\x1f]*)"'
_VALUE = {"scores": r"(-?(?:0|[1-9][0-9]*))", "grades": _NAME}


@functools.lru_cache(maxsize=8)
def _forms(key: str, blank_lines: bool) -> tuple[re.Pattern[bytes], list[tuple[int, re.Pattern[str]]]]:
    """The piece head (bytes before its first colon) and the token forms for ballot ``key``;
    ``blank_lines``: lines of spaces may stand between ballots (not when lines carry weights)."""
    value = _VALUE[key]
    blank, end = (r"(?: *\n)*", r"(?:\n *)*") if blank_lines else ("", "")
    return re.compile((blank + r' *\{ *"' + key + '" *').encode()), [
        (_KN, re.compile(r": *\{ *" + _NAME + r" *")),
        (_VN, re.compile(r": *" + value + r" *, *" + _NAME + r" *")),
        (_VE, re.compile(r": *" + value + r" *\} *\} *\n" + blank + r' *\{ *"' + key + '" *')),
        (_VZ, re.compile(r": *" + value + r" *\} *\} *" + end)),
    ]


def _parts(v16: NDArray[np.void], start: I64, length: I64, n: int) -> list[U64]:
    """The bytes ``[start, start + length)`` of each token as 8-byte words, zero past its end.

    They determine the token exactly when it holds no NUL byte (the caller checks that): then its
    length is the number of nonzero bytes.  The words are read 16 bytes at a time (one gather of
    a 16-byte item costs about what one of an 8-byte item does); a word that reaches past the
    shortest token is masked by the length.
    """
    parts: list[U64] = []
    shortest, longest = int(length.min()), int(length.max())
    for offset in range(0, longest, 16):
        at = start + offset if offset == 0 else np.minimum(start + offset, n - 1)
        pair = v16[at].view(np.uint64).reshape(-1, 2)
        for half in (0, 1):
            skip = offset + 8 * half
            if skip >= longest:
                break
            word = pair[:, half]
            if shortest < skip + 8:  # some tokens end inside (or before) this word
                word = word & _mask_of_length(skip, longest)[length]
            parts.append(word)
    return parts


@functools.lru_cache(maxsize=64)
def _mask_of_length(skip: int, longest: int) -> U64:
    """Mask of the 8-byte word at offset ``skip`` of a token, by token length (0..longest)."""
    return _MASKS[np.clip(np.arange(longest + 1) - skip, 0, 8)]


class _ColonTokens:
    """The distinct colon tokens of one file (ids in order of first appearance), each classified once.

    Lookup: a multiplicative hash of the token's parts picks a slot of a table that is
    collision-free for the known tokens; the slot holds that token's parts, and a token is that
    token only if all its parts are equal (exact).  Tokens that match nowhere are new (added, the
    table rebuilt); a new token with the fingerprint of a known one gives None (general path).
    """

    def __init__(self, key: str, codes: dict[str, int] | tuple[int, int], blank_lines: bool) -> None:
        """``codes``: the grade scale as {grade: index} for grades, the score range for scores."""
        self.key = key
        self.blank_lines = blank_lines
        self.codes = codes
        if isinstance(codes, dict):
            self.low, self.high = 0, len(codes) - 1
        else:
            self.low, self.high = codes
        self.known = np.zeros(0, dtype=np.uint64)
        self.rep_parts: list[U64] = []
        self.mult, self.shift = np.uint64(0), np.uint64(0)
        self.slot_ids = np.zeros(0, dtype=np.int64)
        self.slot_parts: list[U64] = []
        self.cls: list[int] = []
        self.val: list[int] = []
        self.name: list[int] = []  # provisional name id of the name the token ends with, -1 if none
        self.names: list[str] = []
        self.name_index: dict[str, int] = {}
        # Stored per cell: score - low + 1 (0 = not scored), narrow when the range allows it.
        self.cell_dtype: Any = np.int64
        for dtype in (np.int8, np.int16):
            info = np.iinfo(dtype)
            if info.min < self.low - 1 and self.high <= info.max and self.high - self.low < info.max:
                self.cell_dtype = dtype
                break
        # Per slot (empty slots: anything, no token lands there): class, cell code, name id + 1.
        self.slot_cls = np.zeros(0, dtype=np.int8)
        self.slot_val = np.zeros(0, dtype=self.cell_dtype)
        self.slot_col = np.zeros(0, dtype=np.int64)

    def slots(self, padded: NDArray[np.uint8], n: int, start: I64, length: I64) -> I64 | None:
        """The table slot of each token ``[start, start + length)`` (index :attr:`slot_cls`,
        :attr:`slot_val`, :attr:`slot_col` with it); None if the table cannot take the tokens
        (then the general path decides)."""
        v16 = np.ndarray(shape=(n,), dtype="V16", buffer=padded, strides=(1,))
        parts = _parts(v16, start, length, n)
        if len(parts) == 1:
            fingerprint = parts[0].copy()
        else:
            fingerprint = parts[1] * _MULTS[1]
            fingerprint ^= parts[0]
            for j in range(2, len(parts)):
                fingerprint ^= parts[j] * _MULTS[j % len(_MULTS)]
        for _ in range(2):
            if self.known.size:
                slot = fingerprint * self.mult
                slot >>= self.shift
                slots = slot.view(np.int64)
                same = self.slot_parts[0][slots] == parts[0]
                for j in range(1, max(len(parts), len(self.slot_parts))):
                    if j >= len(self.slot_parts):
                        same &= parts[j] == 0
                    elif j >= len(parts):
                        same &= self.slot_parts[j][slots] == 0
                    else:
                        same &= self.slot_parts[j][slots] == parts[j]
                if same.all():
                    return slots
                missing = np.flatnonzero(~same)
            else:
                missing = np.arange(fingerprint.size)
            new, at = np.unique(fingerprint[missing], return_index=True)
            if np.isin(new, self.known).any() or self.known.size + new.size > 4096:
                return None  # two different tokens with one fingerprint, or too many tokens
            by_appearance = np.argsort(at)
            new, local = new[by_appearance], missing[at[by_appearance]]
            if not self._add(new, [p[local] for p in parts], padded, start[local], start[local] + length[local]):
                return None
        return None

    def _add(self, new: U64, parts: list[U64], padded: NDArray[np.uint8], start: I64, end: I64) -> bool:
        old = self.known.size
        self.known = np.concatenate([self.known, new])
        for j in range(max(len(parts), len(self.rep_parts))):
            have = self.rep_parts[j] if j < len(self.rep_parts) else np.zeros(old, dtype=np.uint64)
            add = parts[j] if j < len(parts) else np.zeros(new.size, dtype=np.uint64)
            if j < len(self.rep_parts):
                self.rep_parts[j] = np.concatenate([have, add])
            else:
                self.rep_parts.append(np.concatenate([have, add]))
        table = _perfect_table(self.known)
        if table is None:
            return False
        self.mult, self.shift, _, self.slot_ids = table
        filled = self.slot_ids >= 0
        where = self.slot_ids[filled]
        self.slot_parts = []
        for rep in self.rep_parts:
            column = np.zeros(self.slot_ids.size, dtype=np.uint64)
            column[filled] = rep[where]
            self.slot_parts.append(column)
        # Empty slots hold zero words, which no token has (each starts with a colon).
        for s, e in zip(start.tolist(), end.tolist(), strict=True):
            cls, code, name = _classify(padded[s:e].tobytes().decode("utf-8"), self.key, self.codes, self.blank_lines)
            self.cls.append(cls)
            self.val.append(code)
            if name is None or cls == _BAD:
                self.name.append(-1)
            else:
                self.name.append(self.name_index.setdefault(name, len(self.names)))
                if self.name[-1] == len(self.names):
                    self.names.append(name)
        ids = np.maximum(self.slot_ids, 0)
        self.slot_cls = np.array(self.cls, dtype=np.int8)[ids]
        self.slot_val = np.array(self.val, dtype=self.cell_dtype)[ids]
        self.slot_col = (np.array(self.name, dtype=np.int64) + 1)[ids]
        return True



def _classify(token: str, key: str, codes: dict[str, int] | tuple[int, int], blank_lines: bool
              ) -> tuple[int, int, str | None]:
    """(class, cell code, name) of one distinct token; class _BAD if it is not in the grammar or its
    value is not allowed (a score out of range, an unknown grade: the json path rejects those).
    Cell code: score - low + 1, or grade index + 1 (0 = not scored)."""
    for cls, form in _forms(key, blank_lines)[1]:
        match = form.fullmatch(token)
        if match is None:
            continue
        if cls == _KN:
            return cls, 0, match.group(1)
        text = match.group(1)
        if isinstance(codes, dict):
            code = codes.get(text, -1) + 1
        else:
            low, high = codes
            code = int(text) - low + 1 if low <= int(text) <= high else 0
        if code <= 0:
            return _BAD, 0, None
        return cls, code, match.group(2) if cls == _VN else None
    return _BAD, 0, None


def colon_token_scores(
    text: str,
    candidates: tuple[str, ...] | None,
    score_range: tuple[int, int],
    weights: I64 | None = None,
    piece_chars: int = 1 << 19,
    grade_scale: tuple[str, ...] | None = None,
) -> ScoreProfile | GradeProfile | None:
    """The profile of a file of score ballots (any key order, partial, any integer scores in the
    range, spaces), or with ``grade_scale`` of majority-judgment grade ballots (grades from the
    scale); None when any line is otherwise (see the module docstring)."""
    if not text.isascii() and any(ch in text for ch in _LINE_BREAKS):
        return None
    if grade_scale is None:
        key, low, high = "scores", *score_range
        tokens = _ColonTokens(key, score_range, weights is None)
    else:
        key, low, high = "grades", 0, len(grade_scale) - 1
        tokens = _ColonTokens(key, {g: i for i, g in enumerate(grade_scale)}, weights is None)
    head = _forms(key, weights is None)[0]
    blocks: list[NDArray[Any]] = []  # per piece: cell codes (score - low + 1, 0 = not scored)
    cap = 8  # name columns; column 0 takes the (line break, next key) pairs and is dropped
    lines = 0
    for piece in _pieces(text, piece_chars):
        if not piece or (weights is None and not piece.strip(" \n")):
            continue  # blank lines only (or the empty rest after a final newline)
        encoded = _utf8(piece)
        if encoded is None:
            return None
        padded, n = encoded
        if "\x00" in piece:
            return None  # token words are exact only without NUL bytes
        colons = np.flatnonzero(padded[:n] == 58)
        if colons.size < 2 or head.fullmatch(padded[: colons[0]].tobytes()) is None:
            return None
        length = np.empty_like(colons)
        np.subtract(colons[1:], colons[:-1], out=length[:-1])
        length[-1] = n - colons[-1]
        slots = tokens.slots(padded, n, colons, length)
        if slots is None:
            return None
        cls = tokens.slot_cls[slots]
        # Grammar (KN VN* VE)* KN VN* VZ: first KN, last VZ and no other VZ or bad token, KN
        # exactly after VE (so VN and VE follow KN or VN, and VE is never last).
        is_break = cls[:-1] == _VE
        if cls[0] != _KN or cls[-1] != _VZ or np.count_nonzero(cls >= _VZ) != 1:
            return None
        if not np.array_equal(is_break, cls[1:] == _KN):
            return None
        # Pair (token i-1, token i): the name token i-1 ends with gets the score token i starts
        # with; a (VE, KN) pair has no name (column 0 of the line it ends).
        breaks = np.flatnonzero(is_break)
        nlines = breaks.size + 1
        last = np.empty(nlines + 1, dtype=np.int64)  # the last pair of each line (a break pair)
        last[0] = -1
        last[1:-1] = breaks
        last[-1] = is_break.size - 1
        cap = max(cap, len(tokens.names))
        cells = np.repeat(np.arange(0, nlines * (cap + 1), cap + 1), np.diff(last))  # line start cells
        cells += tokens.slot_col[slots[:-1]]
        table = np.zeros((nlines, cap + 1), dtype=tokens.cell_dtype)
        table.ravel()[cells] = tokens.slot_val[slots[1:]]
        table[:, 0] = 0  # column 0 stands for candidates named nowhere
        scored = cls.size - 1 - (nlines - 1)  # pairs with a name
        if np.count_nonzero(table) != scored:
            return None  # a name twice in one ballot: the json path names it
        blocks.append(table)
        lines += nlines
    if not blocks or (weights is not None and weights.size != lines):
        return None
    names = tokens.names
    cands = tuple(sorted(names)) if candidates is None else candidates
    index = {c: i for i, c in enumerate(cands)}
    if any(x not in index for x in names):
        return None  # unknown candidate: the json path names it
    m, width = len(cands), cap + 1
    cells = np.concatenate([t if t.shape[1] == width else np.pad(t, ((0, 0), (0, width - t.shape[1])))
                            for t in blocks])
    column = [0] * m  # column 0 is never a name: all 0 (not scored)
    for i, x in enumerate(names):
        column[index[x]] = i + 1
    cells = cells[:, column]
    present = cells > 0
    np.maximum(cells, 1, out=cells)
    cells += low - 1  # the score, and low where not scored
    if weights is None:
        weights = np.ones(lines, dtype=np.int64)
    if grade_scale is not None:
        return GradeProfile.build(cands, cells, present, weights, grade_scale)
    return ScoreProfile.build(cands, cells, present, weights, low, high)
