"""Bourse for research in notebooks: tick files, signal backtests from NumPy and
pandas, any backtest from a config, Python strategies, sweeps and metrics.

A thin layer over the host library the ``bourse`` binary is built from (the
``_bourse`` extension links it): the engine runs in C with the GIL released,
with no Python call per event unless you write a Python strategy.
See docs/python.md.
"""
import os as _os

from . import _bourse
from ._bourse import (Error, errors_by_code, Bar, Top, Trade, OrderEvent, Context,  # noqa: F401
                      SMA, EMA)

# every bourse.Error subclass (bourse.InvalError, bourse.NotfoundError, ...)
for _cls in errors_by_code.values():
    globals()[_cls.__name__] = _cls
del _cls


def _plugin_dirs():
    here = _os.path.dirname(_os.path.abspath(__file__))
    dirs = [_os.path.join(here, "plugins")]
    try:
        from . import _build_info
        dirs.append(_build_info.PLUGIN_DIR)
    except ImportError:
        pass
    return [d for d in dirs if _os.path.isdir(d)]


# Plugins (the sim venue, ma_cross, ...) are found through the host's search
# path; the user's BOURSE_PLUGIN_PATH comes first, the package's own last.
_os.environ["BOURSE_PLUGIN_PATH"] = ":".join(
    [p for p in _os.environ.get("BOURSE_PLUGIN_PATH", "").split(":") if p] + _plugin_dirs())

from ._ticks import (RECORD_DTYPE, KINDS, read_ticks, write_ticks, tick_info,  # noqa: E402,F401
                     import_ticks, bars_to_records)
from ._result import Result  # noqa: E402,F401
from ._backtest import backtest, signal_backtest, Strategy  # noqa: E402,F401
from ._analytics import metrics  # noqa: E402,F401
from ._sweep import sweep  # noqa: E402,F401

__version__ = "0.1.0"
__all__ = ["Error", "read_ticks", "write_ticks", "tick_info", "import_ticks", "signal_backtest",
           "backtest", "Strategy", "Result", "sweep", "metrics", "SMA", "EMA", "RECORD_DTYPE",
           "KINDS"]
