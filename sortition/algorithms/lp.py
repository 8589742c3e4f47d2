"""The restricted master LP of column generation, kept alive in one HiGHS instance between solves.

Column generation solves the same LP again and again with a few more panels each time. Building it
afresh for ``scipy.optimize.linprog`` costs a full solve every round (and most of the run time on
large pools); keeping one HiGHS model and adding columns lets the dual simplex restart from the
last optimal basis, so a round costs a handful of pivots. We use the HiGHS object that SciPy
bundles (``scipy.optimize._highspy``, the same solver ``linprog`` calls) — no extra dependency; the
pinned SciPy version in requirements.txt is the one this is tested with.

One model serves every phase. Rows are the types that can be selected at all, plus ``sum x = 1``;
columns are ``z`` (the level being raised), one shortfall slack per type, and the panels::

    row t:   sum_j p_tj x_j  -  a_t z  +  s_t  >=  b_t         (p_tj = c_tj / n_t)
    max      z  -  sum_t w_t s_t

* a free type of a LEXIMIN stage: a_t = 1, b_t = 0, slack fixed at 0 (``p_t >= z``);
* a fixed type: a_t = 0, b_t = its level, slack fixed at 0;
* a type with a target (the "is the relaxed optimum reachable" phase): a_t = 0, b_t = target,
  slack allowed with cost w_t = n_t, so the objective is minus the total expected shortfall.

Whatever the phase, the duals ``y_t >= 0`` of the type rows and ``cap`` of the sum row price a
panel the same way: it improves the LP exactly when ``sum_t y_t c_t / n_t > cap``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize._highspy import _core as highs

from sortition.errors import SelectionError

INF = highs.kHighsInf
FIXED_MARGINS = (1e-9, 1e-8, 1e-7, 1e-6)


@dataclass
class LPSolution:
    objective: float
    z: float
    x: np.ndarray  # weight of each panel column, in the order they were added (after pruning)
    duals: np.ndarray  # per type of the model (zero for types without a row)
    cap: float  # dual of sum x = 1


class MasterLP:
    """Incremental master LP over the ``active`` types of a model with counts ``counts``."""

    def __init__(self, counts: np.ndarray, active: np.ndarray) -> None:
        self.counts = counts.astype(float)
        self.rows = np.flatnonzero(active)  # model type of each LP row
        self.row_of = np.full(len(counts), -1, dtype=np.int64)
        self.row_of[self.rows] = np.arange(len(self.rows))
        self.num_rows = len(self.rows) + 1  # + sum row
        self.sum_row = len(self.rows)
        h = highs._Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "off")  # presolve would throw the warm basis away
        h.setOptionValue("simplex_strategy", 4)  # primal: added columns keep the basis primal feasible
        h.changeObjectiveSense(highs.ObjSense.kMaximize)
        r = len(self.rows)
        lower = np.zeros(self.num_rows)
        upper = np.full(self.num_rows, INF)
        lower[self.sum_row] = upper[self.sum_row] = 1.0
        h.addRows(self.num_rows, lower, upper, 0, np.zeros(self.num_rows, np.int32), np.zeros(0, np.int32), np.zeros(0))
        # column 0: z, in every type row with coefficient -1 (all types start free)
        h.addCols(
            1, np.array([1.0]), np.array([-INF]), np.array([INF]), r,
            np.array([0], np.int32), np.arange(r, dtype=np.int32), -np.ones(r),
        )
        # columns 1..r: slacks, fixed at zero until a target phase opens them
        h.addCols(
            r, np.zeros(r), np.zeros(r), np.zeros(r), r,
            np.arange(r, dtype=np.int32), np.arange(r, dtype=np.int32), np.ones(r),
        )
        self.h = h
        self.first_panel = 1 + r
        self.num_panels = 0
        self.z_coef = np.ones(r)
        self.fixed_level = np.full(r, np.nan)  # level of each fixed row (NaN: not fixed)

    # -- rows -------------------------------------------------------------------------------------
    def set_free(self, types: np.ndarray) -> None:
        """``p_t >= z`` for these model types (no slack)."""
        for t in np.asarray(types, dtype=np.int64):
            r = int(self.row_of[t])
            if self.z_coef[r] != 1.0:
                self.h.changeCoeff(r, 0, -1.0)
                self.z_coef[r] = 1.0
            self.h.changeRowBounds(r, 0.0, INF)
            self.fixed_level[r] = np.nan
            self._close_slack(r)

    def set_fixed(self, types: np.ndarray, levels: np.ndarray) -> None:
        """``p_t >= level`` for these model types (no slack)."""
        for t, level in zip(np.asarray(types, dtype=np.int64), np.asarray(levels, dtype=float), strict=True):
            r = int(self.row_of[t])
            if self.z_coef[r] != 0.0:
                self.h.changeCoeff(r, 0, 0.0)
                self.z_coef[r] = 0.0
            self.h.changeRowBounds(r, float(level), INF)
            self.fixed_level[r] = float(level)
            self._close_slack(r)

    def set_targets(self, targets: np.ndarray) -> None:
        """Every row ``p_t + s_t >= target_t`` with the shortfall in expected seats as the cost; z = 0."""
        r = len(self.rows)
        for i in range(r):
            if self.z_coef[i] != 0.0:
                self.h.changeCoeff(i, 0, 0.0)
                self.z_coef[i] = 0.0
            self.h.changeRowBounds(i, float(targets[self.rows[i]]), INF)
        self.fixed_level[:] = np.nan
        self.h.changeColBounds(0, 0.0, 0.0)
        self.h.changeColsBounds(r, np.arange(1, 1 + r, dtype=np.int32), np.zeros(r), np.full(r, INF))
        self.h.changeColsCost(r, np.arange(1, 1 + r, dtype=np.int32), -self.counts[self.rows])

    def end_targets(self) -> None:
        """Back to LEXIMIN stages: z free again, slacks closed (rows are then set by the caller)."""
        r = len(self.rows)
        self.h.changeColBounds(0, -INF, INF)
        self.h.changeColsBounds(r, np.arange(1, 1 + r, dtype=np.int32), np.zeros(r), np.zeros(r))
        self.h.changeColsCost(r, np.arange(1, 1 + r, dtype=np.int32), np.zeros(r))

    def _close_slack(self, r: int) -> None:
        self.h.changeColBounds(1 + r, 0.0, 0.0)
        self.h.changeColCost(1 + r, 0.0)

    # -- columns ----------------------------------------------------------------------------------
    def add_panels(self, panels: list[np.ndarray]) -> None:
        if not panels:
            return
        starts, indices, values = [], [], []
        nnz = 0
        for c in panels:
            t = np.flatnonzero(c)
            r = self.row_of[t]
            keep = r >= 0
            starts.append(nnz)
            indices.append(np.append(r[keep], self.sum_row))
            values.append(np.append(c[t[keep]] / self.counts[t[keep]], 1.0))
            nnz += int(keep.sum()) + 1
        k = len(panels)
        self.h.addCols(
            k, np.zeros(k), np.zeros(k), np.full(k, INF), nnz,
            np.array(starts, np.int32), np.concatenate(indices).astype(np.int32), np.concatenate(values),
        )
        self.num_panels += k

    def remove_panels(self, indices: np.ndarray) -> None:
        """Drop these panel columns (positions among the panels); later panels move down."""
        idx = np.sort(np.asarray(indices, dtype=np.int32)) + self.first_panel
        if len(idx):
            self.h.deleteCols(len(idx), idx.astype(np.int32))
            self.num_panels -= len(idx)

    # -- solving ----------------------------------------------------------------------------------
    def solve(self) -> LPSolution:
        status = self.h.run()
        model_status = self.h.getModelStatus()
        if model_status == highs.HighsModelStatus.kInfeasible:
            # Fixed levels come from earlier optima, exact only up to the solver's tolerance (1e-7):
            # together they can be a hair out of reach. Lower them step by step, as little as works.
            fixed = np.flatnonzero(~np.isnan(self.fixed_level))
            for margin in FIXED_MARGINS:
                for r in fixed:
                    self.h.changeRowBounds(int(r), max(float(self.fixed_level[r]) - margin, 0.0), INF)
                self.fixed_level[fixed] = np.maximum(self.fixed_level[fixed] - margin, 0.0)
                status = self.h.run()
                model_status = self.h.getModelStatus()
                if model_status != highs.HighsModelStatus.kInfeasible:
                    break
        if model_status != highs.HighsModelStatus.kOptimal:
            # Numerical trouble after many modifications: solve once more from scratch.
            self.h.clearSolver()
            self.h.run()
            model_status = self.h.getModelStatus()
            if model_status != highs.HighsModelStatus.kOptimal:
                raise SelectionError(
                    f"the LEXIMIN linear program failed: {self.h.modelStatusToString(model_status)} ({status})",
                    code="solver_failed",
                )
        sol = self.h.getSolution()
        col = np.asarray(sol.col_value)
        row_dual = np.asarray(sol.row_dual)
        r = len(self.rows)
        duals = np.zeros(len(self.counts))
        duals[self.rows] = np.maximum(-row_dual[:r], 0.0)
        return LPSolution(
            objective=float(self.h.getInfo().objective_function_value),
            z=float(col[0]),
            x=np.maximum(col[self.first_panel :], 0.0),
            duals=duals,
            cap=float(row_dual[self.sum_row]),
        )
