"""All randomness of a lottery, derived from public inputs with SHA-256.

* ``input_digest`` fingerprints the parsed inputs (quotas, people, panel size, household columns)
  independently of row order and whitespace.
* ``lottery_rng`` is the one generator used while building the lottery (rounding, assigning people
  of a type to tickets). It is seeded from the digest and the algorithm version only, so the whole
  lottery is fixed before anyone knows the public seed string.
* ``draw_ticket`` picks ticket i of m from SHA-256(digest, algorithm version, public seed).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from sortition.types import Pool

ALGORITHM_VERSION = "pnyx-sortition-1.0"


def input_digest(pool: Pool, size: int) -> str:
    """SHA-256 hex digest of the canonical form of the selection inputs."""
    cats = pool.categories
    canonical = {
        "size": size,
        "features": [
            [f, [[v, cats.quotas[(f, v)].min, cats.quotas[(f, v)].max] for v in cats.values[f]]]
            for f in cats.features
        ],
        "address_columns": [a.lower() for a in pool.address_columns],
        "people": [[p.id, list(p.values), list(p.household) if p.household else None] for p in pool.people],
    }
    blob = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _sha(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def lottery_rng(digest: str, algorithm: str, version: str = ALGORITHM_VERSION) -> np.random.Generator:
    """The generator for building the lottery; depends on the inputs, never on the public seed."""
    return np.random.default_rng(int.from_bytes(_sha("lottery", digest, algorithm, version), "big"))


def draw_ticket(digest: str, algorithm: str, seed: str, lottery_size: int, version: str = ALGORITHM_VERSION) -> int:
    """Ticket number in ``range(lottery_size)`` from SHA-256(digest, algorithm, version, seed).

    The 256-bit hash modulo m (m ≤ 10^6) has a bias below 2^-230, far below anything observable.
    """
    return int.from_bytes(_sha("ticket", digest, algorithm, version, seed), "big") % lottery_size
