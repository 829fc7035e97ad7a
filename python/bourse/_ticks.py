"""Tick files (.ticks.zst, docs/tick-format.md) as NumPy structured arrays and
pandas DataFrames. Records are the host's 64-byte brs_market_event; the C
extension decodes blocks straight into one buffer that numpy views without a
copy, so no Python code runs per event."""
import numpy as np

from . import _bourse

KINDS = ["none", "add", "cancel", "modify", "execute", "level_set", "level_delete", "trade",
         "quote", "bar", "status", "snapshot_begin", "snapshot_end"]
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}
SIDES = ["buy", "sell"]

# brs_market_event (api/bourse/types.h). The payload is a union: the bar and
# quote views overlap price/qty/order_id/aux/spare, as in C.
RECORD_DTYPE = np.dtype({
    "names": ["ts_exchange", "ts_local", "kind", "side", "flags", "instrument",
              "price", "qty", "order_id", "aux", "spare",
              "open", "high", "low", "close", "volume",
              "bid_price", "bid_qty", "ask_price", "ask_qty"],
    "formats": ["<i8", "<i8", "u1", "u1", "<u2", "<u4",
                "<i8", "<i8", "<u8", "<i8", "<i8",
                "<i8", "<i8", "<i8", "<i8", "<i8",
                "<i8", "<i8", "<i8", "<i8"],
    "offsets": [0, 8, 16, 17, 18, 20,
                24, 32, 40, 48, 56,
                24, 32, 40, 48, 56,
                24, 32, 40, 48],
    "itemsize": 64,
})
_PLAIN = ["ts_exchange", "ts_local", "kind", "side", "flags", "instrument",
          "price", "qty", "order_id", "aux", "spare"]
_BAR = ["open", "high", "low", "close", "volume"]
_QUOTE = ["bid_price", "bid_qty", "ask_price", "ask_qty"]


def _ns(t):
    """A time as int ns since the epoch: int, str, datetime, pd.Timestamp, np.datetime64."""
    if t is None:
        return None
    if isinstance(t, (int, np.integer)):
        return int(t)
    import pandas as pd
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


def _kind_mask(kind):
    if kind is None:
        return 0
    kinds = [kind] if isinstance(kind, (str, int, np.integer)) else list(kind)
    mask = 0
    for k in kinds:
        code = _KIND_CODE.get(k) if isinstance(k, str) else int(k)
        if code is None or not 0 < code < len(KINDS):
            raise ValueError("unknown event kind %r (one of: %s)" % (k, ", ".join(KINDS[1:])))
        mask |= 1 << code
    return mask


def tick_info(path):
    """Header, instruments, block count, event count and time range of a tick file."""
    return _bourse.tick_info(str(path))


def read_ticks(path, kind=None, symbols=None, start=None, end=None, as_frame=False, threads=0):
    """Read a tick file.

    kind: an event kind name ("bar", "trade", "quote", "add", ...) or a list of
    them; symbols: a symbol or list of symbols; start/end: times (ns, str,
    Timestamp) selecting start <= ts_exchange < end. Returns a structured array
    of RECORD_DTYPE (``.attrs`` is not available on arrays: the instrument table
    is ``bourse.tick_info(path)["instruments"]``), or with as_frame=True a
    DataFrame (see frame_from_records) whose ``attrs["instruments"]`` holds the
    instrument table. A file cut short (no footer) is read up to the damage
    with a RuntimeWarning naming it.
    """
    instr_mask = None
    if symbols is not None:
        info = _bourse.tick_info(str(path))
        names = [symbols] if isinstance(symbols, str) else list(symbols)
        table = {d["symbol"]: d["id"] for d in info["instruments"]}
        missing = [s for s in names if s not in table]
        if missing:
            raise _bourse.errors_by_code[-4](
                "%s: no instrument %s (the file has: %s)" % (path, ", ".join(missing), ", ".join(table)))
        m = bytearray(len(info["instruments"]))
        for s in names:
            m[table[s]] = 1
        instr_mask = bytes(m)
    lo = _ns(start)
    hi = _ns(end)
    buf, instruments, cut, n, bad, kinds_seen, side_max = _bourse.read_ticks(
        str(path), _kind_mask(kind), instr_mask,
        lo if lo is not None else -(1 << 63), hi if hi is not None else (1 << 63) - 1, threads,
        bool(as_frame))
    if cut:
        import warnings
        warnings.warn("%s: %s" % (path, cut), RuntimeWarning, stacklevel=2)
    if as_frame:
        return _frame_from_columns(buf, n, bad, kinds_seen, side_max, instruments)
    return np.frombuffer(buf, dtype=RECORD_DTYPE)


def _sym_dtype(n_instruments):
    """The symbol codes' dtype (ticks.c sym_width: what Categorical keeps)."""
    return np.int8 if n_instruments < 127 else np.int16 if n_instruments < 32767 else np.int32


_GENERIC = ["price", "qty", "order_id", "aux", "spare"]


def _payload(n, kinds_seen):
    """The payload columns' names and how many of the 5 payload words they use."""
    if n and kinds_seen == 1 << 9:
        return _BAR
    if n and kinds_seen == 1 << 8:
        return _QUOTE
    return _GENERIC


def _build_frame(ts, ts_local, words, payload, kinds, kinds_seen, side, side_max, flags, instr,
                 codes, instruments):
    """The frame of frame_from_records from 1-D columns, adopted without a
    copy: DataFrame(dict, copy=False) keeps each array as its own block
    (insert and setitem would copy, consolidation would stack the int64
    columns)."""
    import pandas as pd
    n = len(ts)
    symbols = [d["symbol"] for d in instruments]
    idx = pd.DatetimeIndex(pd.arrays.DatetimeArray(ts.view("datetime64[ns]"),
                                                   dtype=pd.DatetimeTZDtype(tz="UTC")), name="ts")
    cols = {"ts_local": ts_local}
    # a kind or side outside the names stays a plain integer column
    cols["kind"] = (pd.Categorical.from_codes(kinds.view(np.int8), KINDS)
                    if kinds_seen < 1 << len(KINDS) else kinds)
    cols["side"] = pd.Categorical.from_codes(side.view(np.int8), SIDES) if side_max <= 1 else side
    cols["flags"] = flags
    cols["instrument"] = instr
    if codes is None and symbols and (n == 0 or int(instr.max()) < len(symbols)):
        codes = instr.astype(_sym_dtype(len(symbols)))
    if codes is not None and symbols:
        cols["symbol"] = pd.Categorical.from_codes(codes, symbols)
    for name, w in zip(payload, words):
        cols[name] = w
    frame = pd.DataFrame(cols, index=idx, copy=False)
    frame.attrs["instruments"] = instruments
    return frame


def _frame_from_columns(buf, n, bad, kinds_seen, side_max, instruments):
    """The DataFrame of frame_from_records from the columns the extension
    decoded into: every column, the symbol codes included, is a view into
    buf (ticks.c documents the layout)."""
    i64 = np.frombuffer(buf, dtype=np.int64, count=7 * n).reshape(7, n)
    instr = np.frombuffer(buf, dtype=np.uint32, count=n, offset=56 * n)
    flags = np.frombuffer(buf, dtype=np.uint16, count=n, offset=60 * n)
    kinds = np.frombuffer(buf, dtype=np.uint8, count=n, offset=62 * n)
    side = np.frombuffer(buf, dtype=np.uint8, count=n, offset=63 * n)
    codes = np.frombuffer(buf, dtype=_sym_dtype(len(instruments)), count=n, offset=64 * n)
    payload = _payload(n, kinds_seen)
    return _build_frame(i64[0], i64[1], i64[2:2 + len(payload)], payload, kinds, kinds_seen,
                        side, side_max, flags, instr, codes if bad == 0 else None, instruments)


def frame_from_records(arr, instruments):
    """A DataFrame of records: index ``ts`` (ts_exchange as a UTC DatetimeIndex),
    ``ts_local`` (int64 ns), ``kind`` and ``side`` (categoricals), ``flags``,
    ``instrument`` (id) and ``symbol`` (categorical), then the payload columns:
    open/high/low/close/volume when every record is a bar, bid_price/bid_qty/
    ask_price/ask_qty when every record is a quote, else price/qty/order_id/
    aux/spare. All int64 (order_id holds the uint64 bits); prices stay integer
    ticks (``attrs["instruments"]`` has each instrument's price_scale).
    read_ticks(as_frame=True) builds the same frame from columns the extension
    decodes into, without copies."""
    arr = np.ascontiguousarray(arr)
    n = len(arr)
    kinds = arr["kind"].astype(np.uint8)
    side = arr["side"].astype(np.uint8)
    words = arr.view(np.int64).reshape(n, 8) if n else np.zeros((0, 8), np.int64)
    kinds_seen = int(np.bitwise_or.reduce(np.left_shift(np.uint64(1), np.minimum(kinds, 63).astype(np.uint64)))) if n else 0
    payload = _payload(n, kinds_seen)
    return _build_frame(words[:, 0], words[:, 1], words[:, 3:3 + len(payload)].T, payload, kinds, kinds_seen,
                        side, int(side.max()) if n else 0, arr["flags"].astype(np.uint16),
                        arr["instrument"].astype(np.uint32), None, instruments)


def _records(buf):
    """A structured array over a buffer of 64-byte records (ctx.bars())."""
    return np.frombuffer(buf, dtype=RECORD_DTYPE)


def _as_records(a):
    """An array of RECORD_DTYPE from a, which may be a repacked copy (numpy's
    concatenate and fancy indexing of a dtype with overlapping fields give one
    field per name, 136 bytes a record): the plain fields carry every byte."""
    if a.dtype == RECORD_DTYPE:
        return a
    names = a.dtype.names or ()
    if all(f in names for f in _PLAIN):
        out = np.zeros(a.shape, dtype=RECORD_DTYPE)
        for f in _PLAIN:
            out[f] = a[f]
        return out
    raise TypeError("write_ticks: expected a DataFrame or an array of bourse.RECORD_DTYPE")


def records_from_frame(frame):
    """The inverse of frame_from_records: a DataFrame in that layout (kind as
    names or codes) back to a structured array of RECORD_DTYPE."""
    import pandas as pd
    n = len(frame)
    out = np.zeros(n, dtype=RECORD_DTYPE)
    if isinstance(frame.index, pd.DatetimeIndex):
        idx = frame.index
        if idx.tz is not None:
            idx = idx.tz_convert("UTC").tz_localize(None)
        out["ts_exchange"] = idx.values.view(np.int64)
    else:
        out["ts_exchange"] = frame["ts_exchange"].to_numpy(np.int64)
    out["ts_local"] = frame["ts_local"].to_numpy(np.int64) if "ts_local" in frame else out["ts_exchange"]
    k = frame["kind"]
    if isinstance(k.dtype, pd.CategoricalDtype) or k.dtype == object:
        codes = k.astype(str).map(_KIND_CODE)
        if codes.isna().any():
            raise ValueError("unknown event kind in column 'kind'")
        out["kind"] = codes.to_numpy(np.uint8)
    else:
        out["kind"] = k.to_numpy(np.uint8)
    if "side" in frame:
        s = frame["side"]
        out["side"] = (s.astype(str) == "sell").to_numpy(np.uint8) if (
            isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object) else s.to_numpy(np.uint8)
    if "flags" in frame:
        out["flags"] = frame["flags"].to_numpy(np.uint16)
    if "instrument" in frame:
        out["instrument"] = frame["instrument"].to_numpy(np.uint32)
    for cols in (_BAR, _QUOTE, ["price", "qty", "order_id", "aux", "spare"]):
        for c in cols:
            if c in frame:
                v = frame[c].to_numpy()
                out[c] = v.view(np.uint64) if c == "order_id" and v.dtype == np.int64 else v
    return out


def bars_to_records(bars, instrument=0, price_scale=1_000_000):
    """OHLCV bars (a DataFrame with open/high/low/close[/volume] in currency and
    a DatetimeIndex of bar END times) to BAR records: prices rounded to
    1/price_scale, volume to whole units, ts_local = ts_exchange."""
    import pandas as pd
    cols = {c.lower(): c for c in bars.columns}
    for need in ("open", "high", "low", "close"):
        if need not in cols:
            raise ValueError("bars need columns open, high, low, close (and volume); missing %r" % need)
    idx = bars.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise TypeError("bars need a DatetimeIndex (the end time of each bar)")
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    n = len(bars)
    # the records as 8 int64 words each (little-endian: word 2 is kind, side,
    # flags and instrument): a few whole-array passes, no per-field strides
    words = np.empty((n, 8), dtype=np.int64)
    ts = idx.values.astype("datetime64[ns]").view(np.int64)
    words[:, 0] = ts
    words[:, 1] = ts
    words[:, 2] = 9 | (int(instrument) << 32)
    px = bars[[cols[c] for c in ("open", "high", "low", "close")]].to_numpy(np.float64)
    if not np.isfinite(px).all():
        bad = [c for i, c in enumerate(("open", "high", "low", "close")) if not np.isfinite(px[:, i]).all()]
        raise ValueError("bars: column %r has NaN or infinite values" % bad[0])
    px *= price_scale
    np.rint(px, out=px)
    words[:, 3:7] = px
    if "volume" in cols:
        v = bars[cols["volume"]].to_numpy(np.float64)
        words[:, 7] = np.rint(np.nan_to_num(v))
    else:
        words[:, 7] = 0
    return words.reshape(-1).view(RECORD_DTYPE)


def _instruments(instruments, n_needed):
    out = []
    for i, d in enumerate(instruments or []):
        if isinstance(d, str):
            d = {"symbol": d}
        d = dict(d)
        d.pop("id", None)
        out.append(d)
    if len(out) < n_needed:
        raise ValueError("write_ticks: %d instruments given, the records use %d" % (len(out), n_needed))
    return out


def write_ticks(path, frame_or_array, instruments=None, block_records=0, level=0):
    """Write records to a tick file (atomically: a temporary renamed on success).

    frame_or_array: a structured array of RECORD_DTYPE, a DataFrame as
    read_ticks(as_frame=True) returns, or an OHLCV bars DataFrame (open/high/
    low/close/volume in currency, DatetimeIndex of bar end times; prices are
    scaled by each instrument's price_scale, default 10^6). instruments: a list
    of dicts {symbol, price_scale, tick_size, lot_size, min_qty} or of symbols;
    default: the frame's attrs["instruments"]. Returns the number of records."""
    import pandas as pd
    if isinstance(frame_or_array, pd.DataFrame):
        if instruments is None:
            instruments = frame_or_array.attrs.get("instruments")
        if "kind" in frame_or_array.columns:
            rec = records_from_frame(frame_or_array)
        else:
            instr = _instruments(instruments or ["BARS"], 1)
            rec = bars_to_records(frame_or_array, 0, instr[0].get("price_scale", 1_000_000))
            instruments = instr
    else:
        rec = _as_records(np.asarray(frame_or_array))
    rec = np.ascontiguousarray(rec)
    need = int(rec["instrument"].max()) + 1 if len(rec) else 0
    return _bourse.write_ticks(str(path), rec.view(np.uint8), _instruments(instruments, need),
                               block_records, level)


def import_ticks(src, out, format, **options):
    """Run an importer of `bourse ticks import` in-process (LOBSTER, Yahoo, CSV,
    Binance recordings): options become --name value flags (True: a bare flag).
    Raises bourse.Error with the importer's message when it fails; returns its
    output text."""
    argv = ["ticks", "import", "--format", format]
    for k, v in options.items():
        flag = "--" + k.replace("_", "-")
        if v is True:
            argv.append(flag)
        elif v is not False and v is not None:
            argv += [flag, str(v)]
    argv += [str(s) for s in (src if isinstance(src, (list, tuple)) else [src])]
    argv += ["--output", str(out)]
    return _command(argv)


def _command(argv):
    rc, out, err = _bourse.command(argv)
    if rc != 0:
        msg = err.strip() or out.strip() or "exit status %d" % rc
        raise _bourse.errors_by_code[-1 if rc == 2 else -3](msg)
    return out + err
