"""bourse.sweep: a grid of backtests, each in its own worker process (as
`bourse sweep` does: a crashing run takes down one worker, every core is
used), returning one row of metrics per combination."""
import itertools
import json
import multiprocessing
import os

from . import _bourse
from ._backtest import _load, _sets


def _one(job):
    """One combination: the host's run with no run directory (metrics only)."""
    config, source, sets = job
    try:
        row = dict(_bourse.run(json.dumps(config), source, _sets(sets, {}), "", no_write=True)["metrics"])
        row["error"] = None
    except Exception as e:  # a failed run is a row, as in `bourse sweep`
        row = {"error": "%s: %s" % (type(e).__name__, e)}
    return row


def sweep(config, grid, jobs=None, sort=None):
    """Run config (dict or path) once per combination of grid {name: [values]}
    (a name without a dot is a strategy parameter, strategy.params.NAME, as in
    `bourse sweep --grid`), `jobs` worker processes at a time (default: the
    number of CPUs). Returns a DataFrame: the grid values, then every metric of
    summary.json that is a number, and `error` (None when the run succeeded);
    sorted by `sort` (descending; max_drawdown and ann_volatility ascending)
    when given, else in grid order (the last name varies fastest)."""
    import pandas as pd
    names = list(grid)
    keys = [n if "." in n else "strategy.params." + n for n in names]
    combos = list(itertools.product(*[list(grid[n]) for n in names]))
    cfg, source = _load(config)
    job_list = [(cfg, source, dict(zip(keys, c))) for c in combos]
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(job_list) == 1:
        rows = [_one(j) for j in job_list]
    else:
        with multiprocessing.get_context("fork").Pool(min(jobs, len(job_list))) as pool:
            rows = pool.map(_one, job_list, chunksize=1)
    out = []
    for c, row in zip(combos, rows):
        r = dict(zip(names, c))
        r.update({k: v for k, v in row.items()
                  if k == "error" or isinstance(v, (int, float)) or v is None})
        out.append(r)
    frame = pd.DataFrame(out)
    if sort:
        asc = sort in ("max_drawdown", "ann_volatility")
        frame = frame.sort_values(sort, ascending=asc, na_position="last", kind="stable")
    return frame.reset_index(drop=True)
