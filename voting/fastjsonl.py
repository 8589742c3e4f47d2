"""Vectorised fast path for JSON-lines ballot files in the canonical shapes.

Why: on large files of nearly distinct ballots (complete rankings, complete score ballots) decoding
every line with ``json`` builds millions of Python objects and is nearly all of the parse cost.
Ballot files are almost always written by a program in one fixed shape, e.g.::

    {"ranking": ["a", ["b", "c"], "d"]}      {"approve": ["a", "c"]}      {"scores": {"a": 4, "b": 0}}

(``json.dumps`` separators ``", "``/``": "`` or the compact ``","``/``":"``).  For such lines the whole
file is tokenised at once with numpy on the raw bytes: quotes delimit the name strings; the short
bytes between two strings (the "gaps": ``", "``, ``"], ["``, ``": 4, "``…) are classified through a
table of their few distinct values; names become ids through a table of the distinct names (exact:
keyed by their bytes, never by a hash alone); each line becomes a row key, identical ballots are
merged with one ``np.unique``.

Exactness: a line takes the fast route only if it matches the grammar exactly (no backslash, no
other whitespace, integer scores written plainly); every other non-blank line is decoded by
``json`` like the slow path and merged in.  Whenever anything is unusual — a bad line, an unknown
or repeated candidate, a score out of range, another ballot type, a line break character other
than ``\\n`` — :func:`fast_profile` returns None and the caller runs the exact slow path on the
whole input, so errors (message, line, field) are those of the slow path by construction.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .profiles import ApprovalProfile, Profile, RankedProfile, ScoreProfile

U64 = NDArray[np.uint64]
I64 = NDArray[np.int64]

# Ballot key -> kind handled here (grades and yes/no ballots always take the json path).
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
_MULT = _MULTS[0]


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


def _dense(x: U64) -> tuple[I64, U64, I64]:
    """Exact ids 0..k-1 of the values of ``x`` (in sorted value order), the distinct values and
    the position of one occurrence of each.

    Meant for few distinct values (gap shapes, names): they are found on a sample, put in a
    collision-free hash table, and every value is looked up vectorised (values missing from the
    sample are added and the lookup repeated).  Many distinct values: ``np.unique``.
    """
    if x.size == 0:
        return np.zeros(0, dtype=np.int64), x[:0], np.zeros(0, dtype=np.int64)
    step = max(1, x.size // 2048)
    known, where = np.unique(x[::step], return_index=True)
    where *= step
    while known.size <= 4096:
        table = _perfect_table(known)
        if table is None:
            break
        mult, shift, keys, ids = table
        hashed = x * mult
        hashed >>= shift
        slots = hashed.view(np.int64)  # < 2**20: the same value as int64
        found = keys[slots] == x
        if found.all():
            return ids[slots], known, where
        missing = np.flatnonzero(~found)
        extra, at = np.unique(x[missing], return_index=True)
        known = np.concatenate([known, extra])
        where = np.concatenate([where, missing[at]])
        order = np.argsort(known)
        known, where = known[order], where[order]
    uniq, first, inverse = np.unique(x, return_index=True, return_inverse=True)
    return inverse.ravel().astype(np.int64), uniq, first


def _combine(a: I64, ka: int, b: I64, kb: int) -> tuple[I64, int]:
    """Dense ids of the pairs (a, b), a < ka, b < kb (exact)."""
    if kb == 1:
        return a, ka
    pair = a * kb + b
    if ka * kb <= 1 << 22:
        used = np.bincount(pair, minlength=ka * kb) > 0
        remap = np.cumsum(used) - 1
        return remap[pair], int(remap[-1]) + 1
    ids, uniq, _ = _dense(pair.astype(np.uint64))
    return ids, uniq.size


def _token_parts(w8: U64, start: I64, end: I64, shortest: int, longest: int) -> list[U64]:
    """Integer parts that together determine the bytes ``[start, end)`` of each token exactly.

    A token is a string's content, its closing quote and the gap up to the next string: its
    first 8 bytes (zero-padded when shorter: the bytes hold no NUL), its last 8 bytes, the full
    8-byte words in between and its length.  ``shortest``/``longest`` (over the whole file) fix
    which parts exist, so that chunks of the same file get the same parts.
    """
    length = end - start
    first = w8[start]
    if shortest < 8:
        first &= _MASKS[np.minimum(length, 8)]
    parts = [first]
    if longest > 8:
        tail = w8[end - 8] if shortest >= 8 else w8[np.maximum(end - 8, 0)]
        parts.append(tail if shortest > 8 else np.where(length > 8, tail, np.uint64(0)))
        for j in range(1, (longest + 7) // 8 - 1):
            inside = length >= 8 * j + 9  # word j lies before the last word's start
            parts.append(np.where(inside, w8[np.minimum(start + 8 * j, w8.size - 1)], np.uint64(0)))
    if shortest != longest:
        parts.append(length.view(np.uint64))
    return parts


def _fingerprint(parts: list[U64]) -> U64:
    fingerprint = parts[0].copy()
    spare = np.empty_like(fingerprint)
    for part in parts[1:]:
        fingerprint *= _MULT
        fingerprint ^= part
        np.right_shift(fingerprint, np.uint64(29), out=spare)
        fingerprint ^= spare
    return fingerprint


_CHUNK = 1 << 16


def _token_ids(w8: U64, start: I64, end: I64) -> tuple[I64, I64]:
    """Exact ids of the tokens ``[start, end)`` (same id iff same bytes) and one occurrence of each.

    The parts of each token are mixed into a 64-bit fingerprint looked up in a collision-free
    hash table of the fingerprints seen so far (ids in order of first appearance), and every
    token is then compared part by part with the representative of its id: a fingerprint
    collision (or a crafted name) is caught there, and then the exact, slower way is taken.
    The work goes in chunks of tokens so that the temporaries stay in the CPU caches.
    """
    spans = [(c0, min(c0 + _CHUNK, start.size)) for c0 in range(0, start.size, _CHUNK)]
    lengths = [end[a:b] - start[a:b] for a, b in spans]
    shortest = min(int(x.min()) for x in lengths)
    longest = max(int(x.max()) for x in lengths)
    tid = np.empty(start.size, dtype=np.int64)
    known = np.zeros(0, dtype=np.uint64)
    rep = np.zeros(0, dtype=np.int64)
    rep_parts: list[U64] = []
    table: tuple[np.uint64, np.uint64, U64, I64] | None = None
    for a, b in spans:
        parts = _token_parts(w8, start[a:b], end[a:b], shortest, longest)
        fingerprint = _fingerprint(parts)
        ids, found = _lookup(table, fingerprint)
        if not found.all():
            missing = np.flatnonzero(~found)
            new, at = np.unique(fingerprint[missing], return_index=True)
            local = missing[at]
            known = np.concatenate([known, new])
            rep = np.concatenate([rep, a + local])
            rep_parts = [p[local] for p in parts] if not rep_parts else [
                np.concatenate([r, p[local]]) for r, p in zip(rep_parts, parts, strict=True)]
            table = _perfect_table(known) if known.size <= 4096 else None
            if table is None:
                return _token_ids_exact(w8, start, end, shortest, longest)
            ids, found = _lookup(table, fingerprint)
        if not all(np.array_equal(r[ids], p) for r, p in zip(rep_parts, parts, strict=True)):
            return _token_ids_exact(w8, start, end, shortest, longest)
        tid[a:b] = ids
    return tid, rep


def _lookup(table: tuple[np.uint64, np.uint64, U64, I64] | None, x: U64) -> tuple[I64, NDArray[np.bool_]]:
    """Ids of ``x`` in a table from :func:`_perfect_table`, and which values were found."""
    if table is None:
        return np.zeros(x.size, dtype=np.int64), np.zeros(x.size, dtype=bool)
    mult, shift, keys, ids = table
    hashed = x * mult
    hashed >>= shift
    slots = hashed.view(np.int64)  # < 2**20: the same value as int64
    return ids[slots], keys[slots] == x


def _token_ids_exact(w8: U64, start: I64, end: I64, shortest: int, longest: int) -> tuple[I64, I64]:
    """Exact token ids without fingerprints: every part made dense, the ids combined pairwise."""
    ids, k = np.zeros(start.size, dtype=np.int64), 1
    for part in _token_parts(w8, start, end, shortest, longest):
        pid, puniq, _ = _dense(part)
        ids, k = _combine(ids, k, pid, puniq.size)
    rep = np.empty(k, dtype=np.int64)
    rep[ids[::-1]] = np.arange(ids.size - 1, -1, -1)
    return ids, rep


def _allowed(kind: str) -> dict[int, tuple[int, ...]]:
    """Gap classes allowed after the key (role 0), between two names (1) and after the last (2)."""
    if kind == "score":
        return {0: (_KS,), 1: (_V,), 2: (_VE,)}
    if kind == "approval":
        return {0: (_K0,), 1: (_S,), 2: (_E0,)}
    return {0: (_K0, _K1), 1: (_S, _O, _C, _CO), 2: (_E0, _E1)}


def fast_profile(
    text: str,
    candidates: tuple[str, ...] | None,
    score_range: tuple[int, int],
    kind: str | None,
    decode: Any,
    weights: I64 | None = None,
) -> Profile | None:
    """The profile of ``text``, or None when the exact slow path must run (see module docstring).

    ``weights``: voters per line (``\n``-separated lines of ``text``), default 1 each.

    ``decode`` is the slow path's strict JSON decoder (duplicate keys raise), used for the lines
    that do not have the fast shape.  The caller has checked the options (score range, grade scale,
    candidate list) already.
    """
    if kind is not None and kind not in _KEY_OF:
        return None
    if not text.isascii() and any(ch in text for ch in _LINE_BREAKS):
        return None
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    n = len(raw)
    if n == 0:
        return None
    buf = raw
    # A numpy copy with 16 zero bytes of padding (numpy memory: large arrays get huge pages, so
    # the copy costs less than a bytes concatenation); point lookups may fall at n (a final "\n").
    padded = np.zeros(n + 16, dtype=np.uint8)
    padded[:n] = np.frombuffer(raw, dtype=np.uint8)
    b = padded[:n]
    scratch = np.empty(n, dtype=bool)  # one scratch mask for the byte scans
    np.less(b, 32, out=scratch)
    controls = np.count_nonzero(scratch)
    np.equal(b, 10, out=scratch)
    newlines = np.flatnonzero(scratch)
    if controls != newlines.size:
        return None  # tabs, carriage returns, other control bytes: slow path
    # w8[p] = the 8 bytes at offset p (an unaligned, overlapping view of the same buffer).
    w8: U64 = np.ndarray(shape=(n + 8,), dtype="<u8", buffer=padded, strides=(1,))
    starts = np.concatenate([[0], newlines + 1]).astype(np.int64)
    ends = np.concatenate([newlines, [n]]).astype(np.int64)
    nonblank = ends > starts
    nonblank_lines = np.flatnonzero(nonblank)
    if nonblank_lines.size == 0:
        return None
    np.equal(b, 34, out=scratch)
    quotes = np.flatnonzero(scratch)
    del scratch
    qcount = np.diff(np.append(np.searchsorted(quotes, starts), quotes.size))
    last_byte = np.maximum(ends - 1, 0)
    good = nonblank & (qcount >= 4) & (qcount % 2 == 0) & (padded[starts] == 123) & (padded[last_byte] == 125)
    good &= padded[starts + 1] == 34
    if raw.find(b"\\") >= 0:
        backslashes = np.flatnonzero(b == 92)
        good[np.searchsorted(newlines, backslashes)] = False
    if not good[nonblank_lines[0]]:
        return None  # the first ballot fixes the type: let the slow path look at it
    if not good.all():
        quotes = quotes[np.repeat(good, qcount)]
        qcount = np.where(good, qcount, 0)

    # Tokens: each string's content + closing quote + the gap up to the next string (or line end).
    tok_start = quotes[0::2] + 1
    gl = np.flatnonzero(good)  # candidate fast lines, in file order
    nstr = qcount[gl] // 2  # strings per line: the ballot key, then names
    first = np.cumsum(nstr) - nstr  # index of each line's key string
    last = first + nstr - 1
    tok_end = np.empty_like(tok_start)
    tok_end[:-1] = tok_start[1:]
    tok_end -= 1
    tok_end[last] = ends[gl]
    tid, rep = _token_ids(w8, tok_start, tok_end)
    if kind is None:
        first_key = buf[int(tok_start[first[0]]) : int(tok_end[first[0]])].partition(b'"')[0].decode("utf-8")
        if first_key not in _KEYS:
            return None
        kind = _KEYS[first_key]
    key = _KEY_OF[kind]
    low, high = score_range
    allowed = _allowed(kind)

    # Classify each distinct token in Python: the ballot key with its gap, or a name with its gap.
    names: list[str | None] = []
    name_index: dict[str, int] = {}
    ntok = rep.size
    tok_name = np.full(ntok + 1, -1, dtype=np.int64)  # -1: the key (or a bad token)
    tok_cls = np.zeros(ntok, dtype=np.int64)
    tok_val = np.zeros(ntok, dtype=np.int64)
    ok_as = {role: np.zeros(ntok, dtype=bool) for role in allowed}
    for i, r in enumerate(rep.tolist()):
        string_bytes, _, gap = buf[int(tok_start[r]) : int(tok_end[r])].partition(b'"')
        string = string_bytes.decode("utf-8")
        cls, val = _gap_class(gap, kind)
        if kind == "score" and cls in (_V, _VE) and not low <= val <= high:
            continue  # out of range: the line goes the json way, which rejects it
        tok_cls[i], tok_val[i] = cls, val
        if cls in allowed[0]:
            ok_as[0][i] = string == key
        else:
            tok_name[i] = name_index.setdefault(string, len(names))
            if tok_name[i] == len(names):
                names.append(string)
            ok_as[1][i] = cls in allowed[1]
            ok_as[2][i] = cls in allowed[2]
    string_ok = ok_as[1][tid]
    string_ok[first] = ok_as[0][tid[first]]
    string_ok[last] = ok_as[2][tid[last]]
    values: I64
    if kind == "ranked":
        if np.isin(tok_cls, [_K1, _O, _C, _CO, _E1]).any():
            values = _tie_tiers(tok_cls[tid] + 1, first, nstr, string_ok)
        else:  # no tie anywhere: tier = position after the key
            values = np.arange(tid.size) - np.repeat(first + 1, nstr)
    else:
        values = tok_val[tid]
    line_ok = np.ones(gl.size, dtype=bool)
    bad = np.flatnonzero(~string_ok)
    if bad.size:
        line_ok[np.searchsorted(first, bad, side="right") - 1] = False
        # Only names of the fast lines count (a bad line's strings may be anything).
        used = np.bincount(tid[np.repeat(line_ok, nstr)], minlength=ntok) > 0
        used_names = set(tok_name[:ntok][used].tolist())
        names = [x if i in used_names else None for i, x in enumerate(names)]
    fast = np.zeros(good.size, dtype=bool)
    fast[gl[line_ok]] = True
    odd = np.flatnonzero(nonblank & ~fast)
    odd_lines = [buf[starts[i] : ends[i]].decode("utf-8") for i in odd.tolist()]
    if weights is None:
        weights = np.ones(good.size, dtype=np.int64)
    return _assemble(kind, candidates, score_range, decode, odd_lines, names, tok_name, tid, values,
                     line_ok, nstr - 1, weights[gl], weights[odd])


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
    names: list[str | None],
    tok_name: I64,
    tid: I64,
    values: I64,
    line_ok: NDArray[np.bool_],
    row_len: I64,
    fast_weights: I64,
    odd_weights: I64,
) -> Profile | None:
    """Merge the fast rows and the json-decoded odd rows, check them, build the (aggregated) profile.

    Fast rows are scattered into the profile matrices with one extra column that receives the
    ballot keys (and the strings of lines that went the json way); it is dropped afterwards.
    """
    decoded = _odd_rows(kind, odd_lines, decode, score_range)
    if decoded is None:
        return None
    odd = [row for row in decoded if row is not None]
    odd_weights = odd_weights[np.array([row is not None for row in decoded], dtype=bool)]
    odd_names = [name for row_names, _ in odd for name in row_names]
    found = {x for x in names if x is not None}
    cands = tuple(sorted(found.union(odd_names))) if candidates is None else candidates
    index = {c: i for i, c in enumerate(cands)}
    m = len(cands)
    try:
        # Unused names (only in lines gone the json way) and -1 (a key) -> the extra column m.
        name_codes = np.array([m if x is None else index[x] for x in names] + [m], dtype=np.int64)
        odd_codes = np.array([index[x] for x in odd_names], dtype=np.int64)
    except KeyError:
        return None  # unknown candidate: the slow path names it
    low, _ = score_range
    width = m + 1
    tok_code = name_codes[tok_name]
    nfast = line_ok.size
    odd_len = np.array([len(row_names) for row_names, _ in odd], dtype=np.int64)
    # Flat index of each string's cell: row * width + column.
    flat = tok_code[tid]
    flat += np.repeat(np.arange(0, nfast * width, width), row_len + 1)
    if not line_ok.all():
        flat = np.where(np.repeat(line_ok, row_len + 1), flat, np.repeat(np.arange(nfast) * width + m, row_len + 1))
    if odd:
        odd_flat = np.repeat(np.arange(nfast, nfast + len(odd)) * width, odd_len) + odd_codes
        flat = np.concatenate([flat, odd_flat])
        values = np.concatenate([values, np.array([v for _, vs in odd for v in vs], dtype=np.int64)])
    total = nfast + len(odd)
    keep = np.concatenate([line_ok, np.ones(len(odd), dtype=bool)])
    lens = np.concatenate([row_len, odd_len])[keep]
    present = np.zeros((total, width), dtype=bool)
    present.ravel()[flat] = True
    present = present[keep, :m] if not keep.all() else present[:, :m]
    if present.shape[0] == 0 or not np.array_equal(np.count_nonzero(present, axis=1), lens):
        return None  # no ballot, or a candidate twice in one ballot
    weights = np.concatenate([fast_weights, odd_weights])[keep]
    if kind == "approval":
        return ApprovalProfile.build(cands, present, weights)
    table = np.full((total, width), low if kind == "score" else 0, dtype=np.int64 if kind == "score" else np.int16)
    table.ravel()[flat] = values
    table = table[keep, :m] if not keep.all() else table[:, :m]
    if kind == "score":
        return ScoreProfile.build(cands, table, present, weights, low, score_range[1])
    ntiers = np.where(present, table, -1).max(axis=1) + 1
    table = np.where(present, table, ntiers[:, None].astype(np.int16))
    return RankedProfile.build(cands, table, present, weights)
