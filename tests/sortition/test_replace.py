from __future__ import annotations

import pytest

from sortition import BadDataError, draw_replacements, panel_meets_quotas, replacement_pool, run_lottery
from tests.sortition.conftest import generated_pool


def test_replacements_keep_the_whole_panel_within_quotas() -> None:
    pool = generated_pool(150, 15, [2, 3, 4], seed=21, households=20)
    first = run_lottery(pool, 15, seed="first", lottery_size=200)
    declined = list(first.panel[:3])
    rep = draw_replacements(pool, first.panel, declined, seed="replacement 1", lottery_size=200)
    assert len(rep.panel) == 3
    assert not set(rep.panel) & set(first.panel)
    final = tuple(p for p in first.panel if p not in declined) + rep.panel
    assert panel_meets_quotas(pool, final, 15) == []


def test_replacement_input_errors() -> None:
    pool = generated_pool(60, 6, [2, 3], seed=2)
    panel = run_lottery(pool, 6, seed="s", lottery_size=50).panel
    with pytest.raises(BadDataError) as info:
        replacement_pool(pool, panel, ["nobody"])
    assert info.value.code == "unknown_id"
    outsider = next(p for p in pool.ids if p not in panel)
    with pytest.raises(BadDataError) as info:
        replacement_pool(pool, panel, [outsider])
    assert info.value.code == "declined_not_selected"
    with pytest.raises(BadDataError):
        draw_replacements(pool, panel, [], seed="s")
