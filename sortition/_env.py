"""Process settings the solver needs before numpy loads: one BLAS thread.

Every matrix here is small (types × quota rows, a few hundred by a few dozen), so OpenBLAS's
worker threads bring no speed, only hand-offs: on a busy 2-core machine a swap search took 40 ms
with the default threads and 0.3 ms with one (measured 2026-12-07). OpenBLAS reads this setting
when it loads, so the package imports this module before numpy; a process that loaded numpy
earlier keeps its own setting (set ``OPENBLAS_NUM_THREADS=1`` there, as the Makefile does).
An explicit setting in the environment always wins.
"""

import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
