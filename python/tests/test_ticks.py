"""Tick files from Python: read/write round trips are exact (records,
DataFrames, bars), filters select what numpy would, damage and bad input raise
the host's errors, and the importers run in-process."""
import os
import shutil

import numpy as np
import pandas as pd
import pytest

import bourse


def demo(source_dir):
    return os.path.join(source_dir, "data", "demo.ticks.zst")


def test_records_round_trip_exact(tmp_path, source_dir):
    a = bourse.read_ticks(demo(source_dir))
    info = bourse.tick_info(demo(source_dir))
    assert len(a) == info["events"] > 1000
    n = bourse.write_ticks(tmp_path / "copy.ticks.zst", a, instruments=info["instruments"])
    assert n == len(a)
    b = bourse.read_ticks(tmp_path / "copy.ticks.zst")
    assert a.tobytes() == b.tobytes()
    assert bourse.tick_info(tmp_path / "copy.ticks.zst")["instruments"] == info["instruments"]


def test_random_records_every_kind_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    n = 50_000
    raw = rng.integers(-(1 << 62), 1 << 62, size=(n, 8), dtype=np.int64)
    a = raw.view(bourse.RECORD_DTYPE).reshape(-1).copy()
    a["ts_exchange"] = np.sort(rng.integers(0, 1 << 60, n))
    a["kind"] = rng.integers(1, 13, n)
    a["side"] = rng.integers(0, 2, n)
    a["instrument"] = rng.integers(0, 3, n)
    instr = [{"symbol": s, "price_scale": 10 ** (i + 2), "tick_size": i + 1, "lot_size": 1}
             for i, s in enumerate(["A", "B", "C"])]
    bourse.write_ticks(tmp_path / "r.ticks.zst", a, instruments=instr, block_records=4096)
    b = bourse.read_ticks(tmp_path / "r.ticks.zst", threads=3)
    assert a.tobytes() == b.tobytes()


def test_frame_round_trip_exact(tmp_path, source_dir):
    f = bourse.read_ticks(demo(source_dir), as_frame=True)
    assert isinstance(f.index, pd.DatetimeIndex) and str(f.index.tz) == "UTC"
    assert f["kind"].dtype == "category" and f["price"].dtype == np.int64
    bourse.write_ticks(tmp_path / "f.ticks.zst", f)
    assert bourse.read_ticks(tmp_path / "f.ticks.zst").tobytes() == bourse.read_ticks(demo(source_dir)).tobytes()
    g = bourse.read_ticks(tmp_path / "f.ticks.zst", as_frame=True)
    pd.testing.assert_frame_equal(f, g)


def test_bars_frame_round_trip(tmp_path):
    idx = pd.date_range("2020-01-01", periods=500, freq="min", tz="UTC")
    rng = np.random.default_rng(1)
    c = np.round(50 + np.cumsum(rng.normal(0, 0.1, len(idx))), 6)
    bars = pd.DataFrame({"open": c, "high": c + 0.5, "low": c - 0.5, "close": c,
                         "volume": rng.integers(1, 1000, len(idx))}, index=idx)
    bourse.write_ticks(tmp_path / "b.ticks.zst", bars, instruments=[{"symbol": "XYZ"}])
    f = bourse.read_ticks(tmp_path / "b.ticks.zst", kind="bar", as_frame=True)
    assert list(f.columns[-5:]) == ["open", "high", "low", "close", "volume"]
    assert (f.index == idx).all()
    assert (f["close"].to_numpy() == np.rint(c * 1e6).astype(np.int64)).all()
    assert (f["volume"].to_numpy() == bars["volume"].to_numpy()).all()
    assert (f["symbol"] == "XYZ").all()


def test_filters_match_numpy(tmp_path, source_dir):
    a = bourse.read_ticks(demo(source_dir))
    t0, t1 = int(a["ts_exchange"][len(a) // 4]), int(a["ts_exchange"][len(a) // 2])
    got = bourse.read_ticks(demo(source_dir), kind=["add", "execute"], start=t0, end=t1)
    want = a[np.isin(a["kind"], [1, 4]) & (a["ts_exchange"] >= t0) & (a["ts_exchange"] < t1)]
    assert len(want) > 100 and got.tobytes() == want.tobytes()
    ts = pd.Timestamp(t0, tz="UTC")
    assert bourse.read_ticks(demo(source_dir), start=ts).tobytes() == a[a["ts_exchange"] >= t0].tobytes()
    sym = bourse.tick_info(demo(source_dir))["instruments"][1]["symbol"]
    one = bourse.read_ticks(demo(source_dir), symbols=[sym])
    assert 0 < len(one) < len(a) and one.tobytes() == a[a["instrument"] == 1].tobytes()
    with pytest.raises(bourse.NotfoundError) as e:
        bourse.read_ticks(demo(source_dir), symbols="NOPE")
    assert "NOPE" in str(e.value)
    with pytest.raises(ValueError):
        bourse.read_ticks(demo(source_dir), kind="candle")


def test_errors_carry_the_host_messages(tmp_path, source_dir):
    with pytest.raises(bourse.NotfoundError) as e:
        bourse.read_ticks(tmp_path / "missing.ticks.zst")
    assert "missing.ticks.zst" in str(e.value) and e.value.code == -4 and e.value.name == "BRS_E_NOTFOUND"
    bad = tmp_path / "bad.ticks.zst"
    data = bytearray(open(demo(source_dir), "rb").read())
    data[200:240] = b"\xff" * 40  # inside the first block
    bad.write_bytes(bytes(data))
    with pytest.raises(bourse.Error) as e:
        bourse.read_ticks(bad)
    assert "bad.ticks.zst" in str(e.value) and "offset" in str(e.value)
    assert isinstance(e.value, (bourse.CorruptError, bourse.ParseError))
    (tmp_path / "junk.ticks.zst").write_bytes(b"not a tick file at all" * 10)
    with pytest.raises(bourse.Error) as e:
        bourse.read_ticks(tmp_path / "junk.ticks.zst")
    assert "junk.ticks.zst" in str(e.value)
    a = np.zeros(3, bourse.RECORD_DTYPE)
    a["instrument"] = 5
    with pytest.raises(ValueError):
        bourse.write_ticks(tmp_path / "x.ticks.zst", a, instruments=["ONE"])
    assert not (tmp_path / "x.ticks.zst").exists()


def test_cut_file_reads_up_to_the_damage(tmp_path, source_dir):
    src = tmp_path / "small-blocks.ticks.zst"
    bourse.write_ticks(src, bourse.read_ticks(demo(source_dir)),
                       instruments=bourse.tick_info(demo(source_dir))["instruments"], block_records=1000)
    size = os.path.getsize(src)
    cut = tmp_path / "cut.ticks.zst"
    with open(src, "rb") as f:
        cut.write_bytes(f.read(size * 2 // 3))
    with pytest.warns(RuntimeWarning):
        part = bourse.read_ticks(cut)
    full = bourse.read_ticks(src)
    assert 0 < len(part) < len(full)
    assert part.tobytes() == full[:len(part)].tobytes()


def test_import_yahoo_in_process(tmp_path, source_dir):
    out = tmp_path / "demo.ticks.zst"
    bourse.import_ticks(os.path.join(source_dir, "data", "bars", "DEMO.csv"), out, "yahoo")
    f = bourse.read_ticks(out, as_frame=True)
    csv = pd.read_csv(os.path.join(source_dir, "data", "bars", "DEMO.csv"))
    assert len(f) == len(csv.dropna())
    assert f["close"].iloc[0] == round(float(csv["Close"].iloc[0]) * 1e6)
    with pytest.raises(bourse.Error) as e:
        bourse.import_ticks(tmp_path / "nope.csv", tmp_path / "n.ticks.zst", "yahoo")
    assert "nope.csv" in str(e.value)


def test_frames_from_columns_equal_frames_from_records(source_dir):
    """read_ticks(as_frame=True) decodes into columns in C; the same frame
    comes from the records, with and without filters (the gaps they leave are
    closed column by column)."""
    from bourse._ticks import frame_from_records
    p = demo(source_dir)
    info = bourse.tick_info(p)["instruments"]
    a = bourse.read_ticks(p)
    pd.testing.assert_frame_equal(bourse.read_ticks(p, as_frame=True), frame_from_records(a, info))
    t0 = int(a["ts_exchange"][len(a) // 3])
    for kw in ({"kind": "execute"}, {"symbols": "GEN001", "start": t0},
               {"kind": ["cancel", "trade"], "end": t0, "threads": 1}):
        f = bourse.read_ticks(p, as_frame=True, **kw)
        g = frame_from_records(bourse.read_ticks(p, **kw), info)
        assert len(f) > 10
        pd.testing.assert_frame_equal(f, g)


def test_frame_adopts_the_decoded_columns(source_dir):
    """read_ticks(as_frame=True) hands pandas the columns it decoded into:
    every column and the index view one buffer (no copy doubles the memory
    or the time of a large read), and the frame equals frame_from_records."""
    path = os.path.join(source_dir, "data", "book.ticks.zst")
    f = bourse.read_ticks(path, as_frame=True)

    def root(a):
        while isinstance(a, np.ndarray) and a.base is not None:
            a = a.base
        return a
    roots = {id(root(f.index.asi8))}
    for c in f.columns:
        v = f[c].array
        roots.add(id(root(v.codes if hasattr(v, "codes") else np.asarray(v))))
    assert len(roots) == 1 and type(root(f.index.asi8)).__name__ == "HugeBuffer"
    from bourse._ticks import frame_from_records
    pd.testing.assert_frame_equal(f, frame_from_records(bourse.read_ticks(path), f.attrs["instruments"]))


def test_empty_selections(source_dir):
    """Nothing selected (a time range outside the file: no block read; a kind
    the file lacks: every block read, nothing kept) gives empty results of
    the usual shape, not an error."""
    p = demo(source_dir)
    a = bourse.read_ticks(p)
    late = int(a["ts_exchange"].max()) + 1
    for kw in ({"start": late}, {"kind": "bar"}):
        r = bourse.read_ticks(p, **kw)
        assert r.dtype == bourse.RECORD_DTYPE and len(r) == 0
        f = bourse.read_ticks(p, as_frame=True, **kw)
        assert len(f) == 0
        assert list(f.columns) == list(bourse.read_ticks(p, as_frame=True, kind="add").columns)
