/* report.js: draws report.html from its data block (report_data.c) with uPlot:
 * every section, formatting for people, zoom (drag, wheel, buttons), pan, hover
 * values, linked cursors and a log toggle. Inlined into the page at build time;
 * no network. Sections that do not apply to a run are not shown. */
(function () {
  'use strict';
  var T0 = performance.now();
  var D = JSON.parse(document.getElementById('brs-data').textContent);
  var S = D.summary || {};
  var main = document.getElementById('report');
  var charts = [];          /* time charts, zoomed and panned together */
  var syncing = false;
  var E0 = S.start_equity != null ? S.start_equity : (D.curve && D.curve.eq.length ? D.curve.eq[0] : 0);
  var WIDTH = function () { return Math.max(480, main.clientWidth - 4); };

  /* ---- numbers for people ---------------------------------------------------- */
  function sep(s) { var p = s.split('.'); p[0] = p[0].replace(/\B(?=(\d{3})+(?!\d))/g, ','); return p.join('.'); }
  function fmtNum(v, d) { if (v == null || !isFinite(v)) return 'n/a'; return sep(Math.abs(v) < 5e-13 ? (0).toFixed(d) : v.toFixed(d)); }
  function money(v) {
    if (v == null || !isFinite(v)) return 'n/a';
    var a = Math.abs(v), d = a >= 100 ? 2 : a >= 1 ? 2 : a >= 0.01 ? 4 : a > 0 ? 6 : 2;
    return (v < 0 ? '-' : '') + sep(a.toFixed(d));
  }
  function pct(v, d) {
    if (v == null || !isFinite(v)) return 'n/a';
    var x = v * 100, a = Math.abs(x);
    if (d == null) d = a >= 100 ? 1 : a >= 0.1 || a === 0 ? 2 : a >= 0.001 ? 4 : 6;
    return sep(x.toFixed(d)) + '%';
  }
  function ratio(v) {
    if (v == null || !isFinite(v)) return 'n/a';
    var a = Math.abs(v);
    if (a >= 1000) return sep(v.toFixed(0));
    if (a >= 1) return v.toFixed(2);
    if (a === 0) return '0';
    /* three significant digits, never in exponent form */
    return v.toFixed(Math.min(15, 2 - Math.floor(Math.log10(a))));
  }
  function int(v) { return v == null || !isFinite(v) ? 'n/a' : sep(Math.round(v).toString()); }
  function dur(sec) {
    if (sec == null || !isFinite(sec)) return 'n/a';
    var a = Math.abs(sec);
    if (a >= 86400 * 10) return sep((sec / 86400).toFixed(0)) + ' days';
    if (a >= 86400 * 2) return (sec / 86400).toFixed(1) + ' days';
    if (a >= 3600) return (sec / 3600).toFixed(1) + ' h';
    if (a >= 60) return (sec / 60).toFixed(1) + ' min';
    if (a >= 1) return sec.toFixed(a >= 10 ? 1 : 2) + ' s';
    if (a >= 1e-3) return (sec * 1e3).toFixed(1) + ' ms';
    if (a === 0) return '0 s';
    return (sec * 1e6).toFixed(1) + ' \u00b5s';
  }
  function pad(n) { return n < 10 ? '0' + n : '' + n; }
  function date(ms, withTime) {
    if (ms == null) return 'n/a';
    var t = new Date(ms), s = t.getUTCFullYear() + '-' + pad(t.getUTCMonth() + 1) + '-' + pad(t.getUTCDate());
    if (withTime) {
      s += ' ' + pad(t.getUTCHours()) + ':' + pad(t.getUTCMinutes()) + ':' + pad(t.getUTCSeconds());
      var f = t.getUTCMilliseconds();
      if (f) s += '.' + (f < 100 ? '0' : '') + (f < 10 ? '0' : '') + f;
    }
    return s;
  }
  /* daily bars are stamped at 00:00 or at the end of their day: show the date alone */
  function when(ms) { var r = ((ms % 86400000) + 86400000) % 86400000; return date(ms, r !== 0 && r !== 86399999); }

  /* Kinds of summary keys; anything not listed prints as a plain number. */
  var KIND = {
    total_return: 'pct', cagr: 'pct', ann_volatility: 'pct', max_drawdown: 'pct', win_rate: 'pct',
    exposure: 'pct', risk_free_rate: 'pct', fill_ratio: 'pct', maker_share: 'pct', taker_share: 'pct',
    quoted_two_sided: 'pct', var_95: 'pct', cvar_95: 'pct', ulcer_index: 'pct', best_day: 'pct',
    worst_day: 'pct', best_month: 'pct', worst_month: 'pct', best_year: 'pct', worst_year: 'pct',
    benchmark_return: 'pct', alpha: 'pct', prob_sharpe: 'pct',
    sharpe: 'ratio', sortino: 'ratio', calmar: 'ratio', profit_factor: 'ratio', skew: 'ratio',
    kurtosis: 'ratio', tail_ratio: 'ratio', recovery_factor: 'ratio', payoff_ratio: 'ratio',
    beta: 'ratio', turnover: 'ratio', years: 'years',
    expectancy: 'money', start_equity: 'money', end_equity: 'money', net_pnl: 'money',
    gross_profit: 'money', gross_loss: 'money', avg_win: 'money', avg_loss: 'money',
    largest_win: 'money', largest_loss: 'money', traded_notional: 'money', fees_paid: 'money',
    maker_fees: 'money', taker_fees: 'money', spread_captured: 'money', trades_net_pnl: 'money',
    avg_holding_seconds: 'secs', max_drawdown_days: 'days', quoted_spread_bps: 'bps',
    n_trades: 'int', n_winners: 'int', n_losers: 'int', n_orders: 'int', n_fills: 'int',
    n_samples: 'int', n_daily_returns: 'int', n_maker_fills: 'int', n_taker_fills: 'int',
    periods_per_year: 'int', inventory_max_abs: 'int', final_position: 'int'
  };
  var LABEL = {
    maker_fees: 'maker fees (negative: rebates)', taker_fees: 'taker fees', fees_paid: 'fees paid (net of rebates)',
    var_95: 'VaR 95% (daily)', cvar_95: 'CVaR 95% (daily)', prob_sharpe: 'probabilistic Sharpe (vs 0)',
    alpha: 'alpha (annual)', max_drawdown_days: 'longest drawdown'
  };
  /* Why a figure can be n/a (docs/analytics.md lists every case). */
  var WHY = {
    cagr: 'needs at least 30 calendar days of samples and a positive starting equity',
    calmar: 'needs a CAGR and a drawdown', sharpe: 'needs 2 daily returns with non-zero volatility',
    sortino: 'needs 2 daily returns and one below the risk-free rate', ann_volatility: 'needs 2 daily returns',
    win_rate: 'no trades', expectancy: 'no trades', profit_factor: 'needs a losing trade (else infinite)',
    avg_win: 'no winning trade', avg_loss: 'no losing trade', largest_win: 'no trades', largest_loss: 'no trades',
    avg_holding_seconds: 'no trades', payoff_ratio: 'needs a winning and a losing trade',
    skew: 'needs 3 daily returns with non-zero volatility', kurtosis: 'needs 4 daily returns with non-zero volatility',
    var_95: 'needs 2 daily returns', cvar_95: 'needs 2 daily returns', tail_ratio: 'the 5% quantile of daily returns is 0',
    ulcer_index: 'no daily points', recovery_factor: 'no drawdown', best_day: 'no daily returns', worst_day: 'no daily returns',
    best_month: 'the run spans less than two month ends', worst_month: 'the run spans less than two month ends',
    best_year: 'the run spans less than two year ends', worst_year: 'the run spans less than two year ends',
    prob_sharpe: 'needs 2 daily returns with non-zero volatility', benchmark_return: 'no benchmark (report.benchmark)',
    alpha: 'needs a benchmark (report.benchmark) with 2 daily returns', beta: 'needs a benchmark (report.benchmark) with 2 daily returns',
    fill_ratio: 'no orders', maker_share: 'no fills with a liquidity flag', taker_share: 'no fills with a liquidity flag',
    quoted_two_sided: 'no order of ours ever rested', quoted_spread_bps: 'never quoted on both sides',
    turnover: 'no equity samples', exposure: 'the run spans no time', inventory_mean_abs: 'the run spans no time'
  };
  function fmtKey(k, v) {
    if (v == null) return null;
    if (typeof v !== 'number') return String(v);
    switch (KIND[k]) {
      case 'pct': return pct(v);
      case 'ratio': return ratio(v);
      case 'money': return money(v);
      case 'secs': return dur(v);
      case 'days': return dur(v * 86400);
      case 'years': return v >= 1 ? ratio(v) + ' years' : dur(v * 365.25 * 86400);
      case 'bps': return ratio(v) + ' bp';
      case 'int': return int(v);
    }
    return Math.abs(v) >= 1000 || v === Math.round(v) ? sep(String(+v.toFixed(2))) : ratio(v);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function valueCell(td, k, v) {
    var s = fmtKey(k, v);
    if (s == null) {
      var na = el('span', 'na', 'n/a');
      na.title = WHY[k] || 'not defined for this run';
      td.appendChild(na);
    } else {
      td.textContent = s;
      if (typeof v === 'number') td.title = String(v);
    }
  }
  function section(id, title, note) {
    var s = el('section');
    s.id = id;
    s.appendChild(el('h2', null, title));
    if (note) s.appendChild(el('p', 'note', note));
    main.appendChild(s);
    return s;
  }

  /* ---- charts ------------------------------------------------------------------ */
  function axisFmt(kind) {
    return function (u, splits) {
      var lo = Infinity, hi = -Infinity;
      splits.forEach(function (v) { if (v != null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
      var step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : Math.abs(hi) || 1;
      return splits.map(function (v) {
        if (v == null) return '';
        if (kind === 'pct') {
          var d = Math.max(0, Math.min(8, Math.ceil(-Math.log10(step * 100) + 1e-9)));
          return sep((v * 100).toFixed(d)) + '%';
        }
        var a = Math.max(Math.abs(lo), Math.abs(hi));
        if (a >= 1e6 && step >= 1e4) return sep((v / 1e6).toFixed(Math.max(0, Math.ceil(-Math.log10(step / 1e6))))) + 'M';
        if (v === 0) return '0';
        if (a >= 1e4 && step >= 100) return sep((v / 1e3).toFixed(Math.max(0, Math.ceil(-Math.log10(step / 1e3))))) + 'k';
        var dd = Math.max(0, Math.min(8, Math.ceil(-Math.log10(step) + 1e-9)));
        return sep(v.toFixed(dd));
      });
    };
  }
  /* y axis width from its longest label, so "-0.00020%" is never cut */
  function axisSize(u, values) {
    var n = 4;
    (values || []).forEach(function (v) { if (v != null && String(v).length > n) n = String(v).length; });
    return 16 + n * 7.2;
  }
  function tipFor(u, box, kinds) {
    var tip = el('div', 'tip');
    tip.style.display = 'none';
    box.appendChild(tip);
    u.hooks.setCursor = u.hooks.setCursor || [];
    return function (u) {
      var i = u.cursor.idx;
      if (i == null || u.cursor.left < 0) { tip.style.display = 'none'; return; }
      var lines = [u.series[0].tipLabel ? u.series[0].tipLabel(u.data[0][i]) : when(u.data[0][i])];
      for (var s = 1; s < u.series.length; s++) {
        if (!u.series[s].show) continue;
        var v = u.data[s][i];
        if (v == null) continue;
        lines.push(u.series[s].label + ': ' + (kinds[s] ? kinds[s](v) : ratio(v)));
      }
      tip.textContent = lines.join('\n');
      tip.style.display = 'block';
      var x = u.cursor.left + u.bbox.left / devicePixelRatio + 14, y = u.cursor.top + 10;
      if (x + 220 > u.over.clientWidth + u.bbox.left / devicePixelRatio) x -= 240;
      tip.style.left = x + 'px';
      tip.style.top = y + 'px';
    };
  }
  /* A time chart: linked cursor and zoom; kinds[i] formats series i for people. */
  function timeChart(parent, title, data, series, kinds, extra) {
    extra = extra || {};
    var box = el('div', 'chart');
    parent.appendChild(box);
    if (title) box.appendChild(el('div', 'ctitle', title));
    var opts = {
      width: WIDTH(), height: extra.height || 240, ms: 1,
      cursor: { sync: { key: 'brs' }, drag: { x: true, y: false } },
      scales: { x: { time: true }, y: extra.y || { auto: true } },
      series: [{ label: 'time', value: function (u, v) { return v == null ? '' : when(v); } }].concat(series),
      axes: [{ space: 70 }, { size: axisSize, values: axisFmt(extra.axis) }].concat(extra.axes || []),
      legend: { live: true },
      hooks: { draw: extra.draw ? [extra.draw] : [], setScale: [onScale] }
    };
    if (extra.scales) for (var k in extra.scales) opts.scales[k] = extra.scales[k];
    var u = new uPlot(opts, data, box);
    u.hooks.setCursor = [tipFor(u, box, kinds)];
    u.over.addEventListener('wheel', function (e) { e.preventDefault(); wheelZoom(u, e); }, { passive: false });
    charts.push(u);
    return u;
  }
  function onScale(u, key) {
    if (key !== 'x' || syncing) return;
    syncing = true;
    var mn = u.scales.x.min, mx = u.scales.x.max;
    charts.forEach(function (c) { if (c !== u && c.scales.x && c.scales.x.min !== mn) c.setScale('x', { min: mn, max: mx }); });
    syncing = false;
    var z = document.getElementById('zoomstate');
    if (z) z.textContent = date(mn, true) + ' \u2192 ' + date(mx, true);
  }
  var FULL = D.curve && D.curve.t.length ? [D.curve.t[0], D.curve.t[D.curve.t.length - 1]] : null;
  function setView(mn, mx) { if (charts.length) charts[0].setScale('x', { min: mn, max: mx }); }
  function view() { var u = charts[0]; return [u.scales.x.min, u.scales.x.max]; }
  function wheelZoom(u, e) {
    var r = u.over.getBoundingClientRect(), f = (e.clientX - r.left) / r.width;
    var v = view(), w = v[1] - v[0], nw = w * (e.deltaY < 0 ? 0.8 : 1.25);
    var at = v[0] + f * w;
    setView(Math.max(FULL[0], at - f * nw), Math.min(FULL[1], at + (1 - f) * nw));
  }
  function pan(dir) { var v = view(), w = v[1] - v[0], d = w * 0.25 * dir;
    if (v[0] + d < FULL[0]) d = FULL[0] - v[0]; if (v[1] + d > FULL[1]) d = FULL[1] - v[1];
    setView(v[0] + d, v[1] + d); }
  function zoomBy(f) { var v = view(), c = (v[0] + v[1]) / 2, w = (v[1] - v[0]) * f / 2;
    setView(Math.max(FULL[0], c - w), Math.min(FULL[1], c + w)); }

  function toolbar(parent) {
    var bar = el('div', 'toolbar');
    function btn(id, text, title, fn) { var b = el('button', null, text); b.id = id; b.title = title; b.onclick = fn; bar.appendChild(b); }
    btn('zoom-in', '+', 'zoom in (or the mouse wheel, or drag across a chart)', function () { zoomBy(0.5); });
    btn('zoom-out', '\u2212', 'zoom out', function () { zoomBy(2); });
    btn('pan-left', '\u25c0', 'pan left (or the left arrow key)', function () { pan(-1); });
    btn('pan-right', '\u25b6', 'pan right (or the right arrow key)', function () { pan(1); });
    btn('zoom-reset', 'reset', 'whole run (or double-click a chart)', function () { setView(FULL[0], FULL[1]); });
    var z = el('span', 'zoomstate');
    z.id = 'zoomstate';
    bar.appendChild(z);
    parent.appendChild(bar);
    document.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowLeft') pan(-1); else if (e.key === 'ArrowRight') pan(1);
    });
  }

  /* ---- sections ---------------------------------------------------------------- */
  function cards() {
    var c = el('div', 'cards');
    c.id = 'cards';
    var list = [['total_return', 'Total return'], ['net_pnl', 'Net PnL'], ['cagr', 'CAGR'], ['sharpe', 'Sharpe'],
      ['sortino', 'Sortino'], ['max_drawdown', 'Max drawdown'], ['ann_volatility', 'Volatility'],
      ['n_trades', 'Trades'], ['win_rate', 'Win rate']];
    if (D.bench) list.push(['benchmark_return', 'Benchmark'], ['alpha', 'Alpha'], ['beta', 'Beta']);
    if (S.spread_captured != null) list.push(['spread_captured', 'Spread captured'], ['max_abs_inventory', 'Max |inventory|']);
    list.forEach(function (p) {
      if (!(p[0] in S)) return;
      var d = el('div', 'card'), b = el('b');
      d.appendChild(el('span', null, LABEL[p[0]] || p[1]));
      valueCell(b, p[0], S[p[0]]);
      d.appendChild(b);
      c.appendChild(d);
    });
    main.appendChild(c);
  }

  function equitySection() {
    var C = D.curve;
    if (!C || C.t.length === 0) { main.appendChild(el('p', 'note', 'No equity samples were recorded: nothing to chart.')); return; }
    var sec = section('sec-equity', D.bench ? 'Equity and PnL, with the benchmark (' + D.bench + ')' : 'Equity and PnL');
    toolbar(sec);
    var ctl = el('div', 'controls');
    var mode = 'pnl', log = false;
    ['pnl', 'equity', 'return'].forEach(function (m) {
      var l = el('label'), r = el('input');
      r.type = 'radio'; r.name = 'eqmode'; r.value = m; r.checked = m === mode; r.id = 'eqmode-' + m;
      r.onchange = function () { mode = m; draw(); };
      l.appendChild(r); l.appendChild(document.createTextNode(m === 'pnl' ? ' PnL' : m === 'equity' ? ' equity' : ' return'));
      ctl.appendChild(l);
    });
    var ll = el('label'), lg = el('input');
    lg.type = 'checkbox'; lg.id = 'logscale';
    lg.onchange = function () { log = lg.checked; draw(); };
    ll.appendChild(lg); ll.appendChild(document.createTextNode(' log scale (equity)'));
    ctl.appendChild(ll);
    sec.appendChild(ctl);
    var holder = el('div');
    sec.appendChild(holder);
    var u = null, positive = C.eq.every(function (v) { return v > 0; });
    /* a benchmark moving 20 times more than the strategy would flatten its line
     * (a market maker against buy and hold): start with it hidden, and say so */
    function range(a) { var lo = Infinity, hi = -Infinity; a.forEach(function (v) { if (v != null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }); return hi - lo; }
    var benchShown = true;
    if (C.bench && range(C.bench) > 20 * Math.max(range(C.eq), 1e-12 * Math.abs(E0))) {
      benchShown = false;
      sec.appendChild(el('p', 'note', 'The benchmark moves ' + ratio(range(C.bench) / Math.max(range(C.eq), 1e-300)) +
        ' times as much as the strategy, so it starts hidden: click its name under the chart to show it.'));
    }
    function tr(v) { return v == null ? null : mode === 'pnl' ? v - E0 : mode === 'return' ? v / E0 - 1 : v; }
    function draw() {
      var keep = u ? [u.scales.x.min, u.scales.x.max] : null;
      if (u) { charts.splice(charts.indexOf(u), 1); u.destroy(); }
      holder.innerHTML = '';
      var useLog = log && mode === 'equity' && positive;
      lg.disabled = !(mode === 'equity' && positive);
      var f = mode === 'return' ? function (v) { return pct(v); } : money;
      var data = [C.t, C.eq.map(tr)], series = [{ label: mode === 'pnl' ? 'PnL' : mode === 'return' ? 'Return' : 'Equity', stroke: '#1f5fbf', width: 1.5 }];
      var kinds = [null, f];
      if (C.bench) {
        data.push(C.bench.map(tr));
        series.push({ label: 'Benchmark', stroke: '#e08a1e', width: 1.2, dash: [5, 3], spanGaps: true, show: benchShown });
        kinds.push(f);
      }
      u = timeChart(holder, null, data, series, kinds, {
        axis: mode === 'return' ? 'pct' : 'num', height: 280,
        y: useLog ? { distr: 3 } : { auto: true }
      });
      if (keep && keep[0] != null) u.setScale('x', { min: keep[0], max: keep[1] });
    }
    draw();
  }

  function drawdownSection() {
    var C = D.curve;
    if (!C || C.t.length < 2) return;
    var sec = section('sec-drawdown', 'Underwater (drawdown from the running peak)',
      'The five deepest drawdowns are shaded and numbered; the axis is scaled to the deepest.');
    var dd = D.drawdowns || [];
    var lo = Math.min.apply(null, C.dd.filter(function (v) { return v != null; }).concat([0]));
    var u = timeChart(sec, null, [C.t, C.dd], [{ label: 'Drawdown', stroke: '#c0392b', width: 1, fill: 'rgba(232,160,160,.55)' }],
      [null, function (v) { return pct(v); }],
      { axis: 'pct', y: { range: function () { return [lo < 0 ? lo * 1.08 : -1e-6, 0]; } },
        draw: function (u) {
          var ctx = u.ctx, b = u.bbox;
          ctx.save();
          dd.forEach(function (e, i) {
            var x0 = u.valToPos(e[0], 'x', true), x1 = u.valToPos(e[2] != null ? e[2] : C.t[C.t.length - 1], 'x', true);
            x0 = Math.max(b.left, x0); x1 = Math.min(b.left + b.width, x1);
            if (x1 <= x0) return;
            ctx.fillStyle = 'rgba(120,80,160,0.10)';
            ctx.fillRect(x0, b.top, Math.max(1, x1 - x0), b.height);
            var xt = u.valToPos(e[1], 'x', true);
            if (xt >= b.left && xt <= b.left + b.width) {
              ctx.fillStyle = '#5b3a8a';
              ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
              ctx.fillText(String(i + 1), xt + 3, b.top + b.height - 4 * devicePixelRatio);
            }
          });
          ctx.restore();
        } });
    if (!dd.length) { sec.appendChild(el('p', 'note', 'Equity never fell below a previous peak.')); return; }
    var t = el('table', 'list');
    t.id = 'drawdown-table';
    var h = el('tr');
    ['#', 'start (peak)', 'trough', 'recovery', 'depth', 'in currency', 'length'].forEach(function (x) { h.appendChild(el('th', null, x)); });
    t.appendChild(h);
    dd.forEach(function (e, i) {
      var r = el('tr');
      [String(i + 1), when(e[0]), when(e[1]), e[2] == null ? 'not recovered' : when(e[2]), pct(-e[3]), money(-e[5]), dur(e[4] * 86400)]
        .forEach(function (x) { r.appendChild(el('td', null, x)); });
      t.appendChild(r);
    });
    sec.appendChild(t);
    void u;
  }

  function color(v, scale) {
    if (v == null || !isFinite(v)) return '#f2f4f8';
    var a = Math.min(1, Math.abs(v) / scale);
    return v >= 0 ? 'rgba(30,158,74,' + (0.12 + 0.6 * a).toFixed(3) + ')' : 'rgba(214,58,47,' + (0.12 + 0.6 * a).toFixed(3) + ')';
  }
  function monthlySection() {
    var M = D.monthly || [], Y = D.yearly || [];
    if (M.length < 2) return;
    var sec = section('sec-monthly', 'Returns by month and year',
      'Calendar months and years (UTC), each from the previous period\'s last equity (the first from the starting equity).');
    var years = {}, scale = 0;
    M.forEach(function (m) { (years[m[0]] = years[m[0]] || {})[m[1]] = m[2]; if (isFinite(m[2])) scale = Math.max(scale, Math.abs(m[2])); });
    var yr = {};
    Y.forEach(function (y) { yr[y[0]] = y[2]; });
    var t = el('table', 'heat');
    t.id = 'monthly-table';
    var h = el('tr');
    h.appendChild(el('th', null, ''));
    'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ').forEach(function (m) { h.appendChild(el('th', null, m)); });
    h.appendChild(el('th', null, 'Year'));
    t.appendChild(h);
    Object.keys(years).sort().forEach(function (y) {
      var r = el('tr');
      r.appendChild(el('th', null, y));
      for (var m = 1; m <= 12; m++) {
        var v = years[y][m], td = el('td', null, v == null ? '' : pct(v, 1));
        td.style.background = v == null ? '' : color(v, scale || 1);
        if (v != null) td.title = y + '-' + pad(m) + ': ' + pct(v);
        r.appendChild(td);
      }
      var yv = yr[y], ty = el('td', 'ycol', yv == null ? '' : pct(yv, 1));
      ty.style.background = yv == null ? '' : color(yv, (scale || 1) * 3);
      r.appendChild(ty);
      t.appendChild(r);
    });
    sec.appendChild(t);
    if (Y.length >= 1) {
      var xs = Y.map(function (y) { return y[0]; }), data = [xs, Y.map(function (y) { return y[2]; })];
      var series = [{ label: 'Year' }, { label: 'Strategy', fill: 'rgba(31,95,191,.75)', stroke: '#1f5fbf', paths: uPlot.paths.bars({ size: [0.4, 60], align: -1 }), points: { show: false } }];
      var kinds = [null, function (v) { return pct(v); }];
      if (D.bench) {
        data.push(Y.map(function (y) { return y[3]; }));
        series.push({ label: 'Benchmark', fill: 'rgba(224,138,30,.7)', stroke: '#e08a1e', paths: uPlot.paths.bars({ size: [0.4, 60], align: 1 }), points: { show: false } });
        kinds.push(function (v) { return pct(v); });
      }
      var box = el('div', 'chart');
      box.appendChild(el('div', 'ctitle', 'Yearly returns'));
      sec.appendChild(box);
      series[0].value = function (u, v) { return v == null ? '' : String(v); };
      var u = new uPlot({ width: WIDTH(), height: 200, scales: { x: { time: false, range: function () { return [xs[0] - 0.7, xs[xs.length - 1] + 0.7]; } } },
        series: series, axes: [{ values: function (u, s) { return s.map(function (v) { return v === Math.round(v) ? String(v) : ''; }); } }, { size: axisSize, values: axisFmt('pct') }],
        cursor: { drag: { x: false, y: false } } }, data, box);
      u.series[0].tipLabel = function (v) { return String(v); };
      u.hooks.setCursor = [tipFor(u, box, kinds)];
    }
  }

  function histogramSection() {
    var R = (D.daily && D.daily.r || []).filter(function (v) { return v != null && isFinite(v); });
    if (R.length < 10) return;
    var sec = section('sec-histogram', 'Distribution of daily returns',
      'Bars: how many days fell in each bin; line: a normal distribution with the same mean and standard deviation.');
    var lo = Math.min.apply(null, R), hi = Math.max.apply(null, R);
    var nb = Math.max(10, Math.min(80, Math.round(Math.sqrt(R.length) * 2)));
    if (hi === lo) { hi = lo + 1e-9; }
    var w = (hi - lo) / nb, xs = [], cnt = [], norm = [];
    var mean = R.reduce(function (a, b) { return a + b; }, 0) / R.length;
    var sd = Math.sqrt(R.reduce(function (a, b) { return a + (b - mean) * (b - mean); }, 0) / (R.length - 1));
    for (var i = 0; i < nb; i++) { xs.push(lo + (i + 0.5) * w); cnt.push(0); }
    R.forEach(function (v) { var k = Math.min(nb - 1, Math.floor((v - lo) / w)); cnt[k]++; });
    xs.forEach(function (x) { norm.push(sd > 0 ? R.length * w * Math.exp(-0.5 * Math.pow((x - mean) / sd, 2)) / (sd * Math.sqrt(2 * Math.PI)) : null); });
    var box = el('div', 'chart');
    sec.appendChild(box);
    var kinds = [null, int, function (v) { return ratio(v); }];
    var u = new uPlot({ width: WIDTH(), height: 220, scales: { x: { time: false } },
      series: [{ label: 'return', value: function (u, v) { return v == null ? '' : pct(v); } },
        { label: 'days', fill: 'rgba(31,95,191,.6)', stroke: '#1f5fbf', paths: uPlot.paths.bars({ size: [0.95, 100] }), points: { show: false } },
        { label: 'normal', stroke: '#d63a2f', width: 1.5, points: { show: false } }],
      axes: [{ values: axisFmt('pct') }, { size: axisSize }], cursor: { drag: { x: false, y: false } } }, [xs, cnt, norm], box);
    u.series[0].tipLabel = function (v) { return 'return ' + pct(v - w / 2) + ' to ' + pct(v + w / 2); };
    u.hooks.setCursor = [tipFor(u, box, kinds)];
  }

  function rollingSection() {
    var R = D.rolling;
    if (!R || !R.t || R.t.length < 2) return;
    var sec = section('sec-rolling', 'Rolling Sharpe and volatility (' + R.window + ' daily returns)',
      'Annualised as the metrics are; the window is report.rolling_window.');
    timeChart(sec, null, [R.t, R.sharpe, R.vol],
      [{ label: 'Sharpe', stroke: '#1f5fbf', width: 1.3, scale: 'y' },
        { label: 'Volatility', stroke: '#8a5a00', width: 1.3, scale: 'vol' }],
      [null, ratio, function (v) { return pct(v); }],
      { scales: { vol: { auto: true } }, axes: [{ scale: 'vol', side: 1, size: axisSize, values: axisFmt('pct'), grid: { show: false } }] });
  }

  /* fills and trades drawn on a price chart, thinned to what the pixels can show */
  function priceOverlay(j, inst) {
    var fills = (D.fills || []).filter(function (f) { return f[1] === j; });
    var trades = (D.trades || []).filter(function (t) { return t[1] === j; });
    var MAXT = 150;
    return function (u) {
      var ctx = u.ctx, b = u.bbox, dpr = devicePixelRatio, mn = u.scales.x.min, mx = u.scales.x.max;
      ctx.save();
      ctx.beginPath();
      ctx.rect(b.left, b.top, b.width, b.height);
      ctx.clip();
      /* candlesticks: [t0, open, high, low, close, t1], a wick and a body each */
      if (inst.ohlc) {
        var vis = inst.ohlc.filter(function (k) { return k[5] >= mn && k[0] <= mx; });
        var w = Math.max(1, Math.min(12 * dpr, b.width / Math.max(1, vis.length) * 0.7));
        vis.forEach(function (k) {
          var x = u.valToPos((k[0] + k[5]) / 2, 'x', true), up = k[4] >= k[1];
          var yo = u.valToPos(k[1], 'y', true), yc = u.valToPos(k[4], 'y', true);
          ctx.strokeStyle = ctx.fillStyle = up ? '#1e9e4a' : '#d63a2f';
          ctx.lineWidth = Math.max(1, dpr * 0.8);
          ctx.beginPath();
          ctx.moveTo(x, u.valToPos(k[2], 'y', true));
          ctx.lineTo(x, u.valToPos(k[3], 'y', true));
          ctx.stroke();
          if (w >= 3) ctx.fillRect(x - w / 2, Math.min(yo, yc), w, Math.max(1, Math.abs(yc - yo)));
        });
      }
      var vis = trades.filter(function (t) { return t[6] >= mn && t[4] <= mx; });
      var shown = vis;
      if (vis.length > MAXT) shown = vis.slice().sort(function (a, c) { return Math.abs(c[8]) - Math.abs(a[8]); }).slice(0, MAXT);
      ctx.lineWidth = 1.5 * dpr;
      shown.forEach(function (t) {
        ctx.strokeStyle = t[8] >= 0 ? 'rgba(30,158,74,.75)' : 'rgba(214,58,47,.75)';
        ctx.beginPath();
        ctx.moveTo(u.valToPos(t[4], 'x', true), u.valToPos(t[5], 'y', true));
        ctx.lineTo(u.valToPos(t[6], 'x', true), u.valToPos(t[7], 'y', true));
        ctx.stroke();
      });
      /* markers: at most one buy and one sell per 6-pixel column; small when dense */
      var col = 6 * dpr, seen = {}, n = 0, vf = 0;
      fills.forEach(function (f) { if (f[0] >= mn && f[0] <= mx) vf++; });
      var sz = (vf > b.width / dpr / 6 ? 3.5 : 5) * dpr;
      fills.forEach(function (f) {
        if (f[0] < mn || f[0] > mx) return;
        var x = u.valToPos(f[0], 'x', true), y = u.valToPos(f[3], 'y', true), k = Math.floor(x / col) * 2 + f[2];
        if (seen[k]) return;
        seen[k] = 1; n++;
        ctx.fillStyle = f[2] === 0 ? '#1e9e4a' : '#d63a2f';
        ctx.beginPath();
        if (f[2] === 0) { ctx.moveTo(x, y + 1); ctx.lineTo(x + sz, y + 1 + sz * 1.6); ctx.lineTo(x - sz, y + 1 + sz * 1.6); }
        else { ctx.moveTo(x, y - 1); ctx.lineTo(x + sz, y - 1 - sz * 1.6); ctx.lineTo(x - sz, y - 1 - sz * 1.6); }
        ctx.fill();
      });
      ctx.restore();
      var leg = document.getElementById('thin-' + j);
      if (leg) leg.textContent = 'In view: ' + int(vf) + ' fills (' + int(n) + ' markers drawn, at most one per side per 6 px), ' +
        int(vis.length) + ' trades' + (vis.length > shown.length ? ' (the ' + MAXT + ' with the largest |PnL| drawn)' : '') + '.';
    };
  }

  function instrumentSections() {
    var I = D.inst || [];
    if (!I.length || !D.curve || D.curve.t.length < 1) return;
    var book = S.mode === 'book';
    var sec = section('sec-position', book ? 'Inventory and exposure' : 'Exposure and position',
      'Position in lots after each sample' + (S.exposure != null ? '; in the market ' + pct(S.exposure) + ' of the time' : '') + '.');
    I.forEach(function (inst) {
      /* many position changes per pixel: an outline would paint a solid block;
       * the fill alone shows where the position was held (zoom in for each step) */
      var changes = 0;
      for (var i = 1; i < inst.pos.length; i++) if (inst.pos[i] !== inst.pos[i - 1]) changes++;
      var dense = changes > WIDTH() / 4;
      timeChart(sec, inst.sym + (dense ? ' (' + int(changes) + ' changes: outline off, zoom in for each step)' : ''),
        [inst.t, inst.pos], [{ label: 'Position ' + inst.sym, stroke: '#6b3fa0', width: dense ? 0 : 1,
        fill: dense ? 'rgba(107,63,160,.45)' : 'rgba(107,63,160,.18)', paths: uPlot.paths.stepped({ align: 1 }) }], [null, int], { height: 160 });
    });
    var ps = section('sec-price', 'Price with fills, trades and indicators',
      'Green up triangles: buys; red down triangles: sells; lines join each trade\'s entry to its exit, green when it made money.');
    var P = D.plots || [];
    I.forEach(function (inst, j) {
      var lo = Infinity, hi = -Infinity;
      inst.px.forEach(function (v) { if (v != null) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
      var over = [], apart = [];
      P.forEach(function (p) {
        var a = Math.min.apply(null, p.v), z = Math.max.apply(null, p.v);
        (j === 0 && isFinite(lo) && a >= lo - (hi - lo) && z <= hi + (hi - lo) ? over : apart).push(p);
      });
      var cols = [[inst.t, inst.px]].concat(over.map(function (p) { return [p.t, p.v]; }));
      var data = cols.length > 1 ? uPlot.join(cols) : [inst.t, inst.px];
      var palette = ['#e08a1e', '#1f8fbf', '#8a3fb0', '#2a9d8f', '#b5651d', '#555'];
      var series = [{ label: inst.sym, stroke: '#333c4d', width: 1.2, spanGaps: true }];
      var kinds = [null, money];
      over.forEach(function (p, i) { series.push({ label: p.name, stroke: palette[i % palette.length], width: 1.2, spanGaps: true }); kinds.push(ratio); });
      var box = el('div');
      ps.appendChild(box);
      if (inst.ohlc) { series[0].stroke = 'rgba(51,60,77,0.25)'; series[0].width = 1; }
      timeChart(box, 'Price ' + inst.sym + (inst.ohlc ? ' (candlesticks' + (inst.ohlc.length < 4000 ? '' : ', several bars per candle when zoomed out') + ')' : ''),
        data, series, kinds, { height: 300, draw: priceOverlay(j, inst),
        y: { range: function (u, mn, mx) {
          /* the candles' highs and lows in view count too */
          if (inst.ohlc) inst.ohlc.forEach(function (k) { if (k[5] >= u.scales.x.min && k[0] <= u.scales.x.max) { mn = Math.min(mn, k[3]); mx = Math.max(mx, k[2]); } });
          var p = (mx - mn) * 0.08 || Math.abs(mx) * 0.01 || 1; return [mn - p, mx + p]; } } });
      var leg = el('div', 'legend');
      leg.id = 'thin-' + j;
      ps.appendChild(leg);
      if (j === 0 && apart.length) {
        var data2 = apart.length > 1 ? uPlot.join(apart.map(function (p) { return [p.t, p.v]; })) : [apart[0].t, apart[0].v];
        timeChart(ps, 'Declared series', data2, apart.map(function (p, i) { return { label: p.name, stroke: palette[i % palette.length], width: 1.2, spanGaps: true }; }),
          [null].concat(apart.map(function () { return ratio; })), { height: 180 });
      }
    });
    if (D.n_inst > I.length) ps.appendChild(el('p', 'note', 'Charts show the first ' + I.length + ' of ' + D.n_inst + ' instruments.'));
  }

  function tradeSection() {
    var T = D.trades || [];
    if (!T.length) return;
    var sec = section('sec-trades', 'Trades',
      'Round trips matched FIFO (docs/analytics.md). MAE/MFE: the worst and best open PnL between entry and exit, from the sampled prices. Click a column to sort.' +
      (D.n_trades > T.length ? ' The page holds the first ' + int(T.length) + ' of ' + int(D.n_trades) + ' trades; trades.csv has all.' : ''));
    var sym = (D.inst || []).map(function (i) { return i.sym; });
    var cols = [['#', 0, int], ['symbol', 1, function (v) { return sym[v] || String(v); }], ['side', 2, function (v) { return v > 0 ? 'long' : 'short'; }],
      ['qty', 3, int], ['entry', 4, when], ['entry price', 5, money], ['exit', 6, when], ['exit price', 7, money],
      ['net PnL', 8, money], ['return', 9, function (v) { return pct(v); }], ['holding', 10, dur], ['MAE', 11, money], ['MFE', 12, money]];
    var t = el('table', 'list trades');
    t.id = 'trade-table';
    var head = el('tr'), body = el('tbody'), order = { c: 0, dir: 1 }, page = 0, PER = 200;
    cols.forEach(function (c, ci) {
      var th = el('th', 'sortable', c[0]);
      th.onclick = function () { order.dir = order.c === ci ? -order.dir : (ci === 0 ? 1 : -1); order.c = ci; page = 0; fill(); };
      head.appendChild(th);
    });
    var thead = el('thead');
    thead.appendChild(head);
    t.appendChild(thead);
    t.appendChild(body);
    var rows = T.slice(), nav = el('div', 'pager');
    function fill() {
      var k = cols[order.c][1];
      rows.sort(function (a, b) { return (a[k] < b[k] ? -1 : a[k] > b[k] ? 1 : a[0] - b[0]) * order.dir; });
      body.innerHTML = '';
      rows.slice(page * PER, page * PER + PER).forEach(function (r) {
        var tr = el('tr');
        cols.forEach(function (c) { var td = el('td', c[1] === 8 ? (r[8] >= 0 ? 'pos' : 'neg') : null, c[2](r[c[1]])); tr.appendChild(td); });
        body.appendChild(tr);
      });
      nav.innerHTML = '';
      var pages = Math.ceil(rows.length / PER);
      if (pages > 1) {
        var pv = el('button', null, '\u2190 previous'), nx = el('button', null, 'next \u2192');
        pv.disabled = page === 0; nx.disabled = page >= pages - 1;
        pv.onclick = function () { page--; fill(); }; nx.onclick = function () { page++; fill(); };
        nav.appendChild(pv); nav.appendChild(el('span', null, ' rows ' + int(page * PER + 1) + '\u2013' + int(Math.min(rows.length, page * PER + PER)) + ' of ' + int(rows.length) + ' ')); nav.appendChild(nx);
      }
      Array.prototype.forEach.call(head.children, function (th, i) { th.setAttribute('data-sort', i === order.c ? (order.dir > 0 ? 'asc' : 'desc') : ''); });
    }
    sec.appendChild(t);
    sec.appendChild(nav);
    fill();
  }

  function metricsSection() {
    var sec = section('sec-metrics', 'Metrics', 'Every figure of summary.json; definitions in docs/analytics.md. Hover n/a to see why.');
    var t = el('table', 'metrics'), tr = null, n = 0;
    t.id = 'metrics-table';
    Object.keys(S).forEach(function (k) {
      var v = S[k];
      if (k === 'title' || (v !== null && typeof v === 'object')) return;
      if (n % 3 === 0) { tr = el('tr'); t.appendChild(tr); }
      var th = el('th', null, LABEL[k] || k.replace(/_/g, ' ')), td = el('td');
      th.title = k;
      valueCell(td, k, v);
      td.setAttribute('data-key', k);
      tr.appendChild(th); tr.appendChild(td);
      n++;
    });
    sec.appendChild(t);
    var I = S.instruments;
    if (Array.isArray(I) && I.length) {
      var s2 = section('sec-instruments', 'Per instrument');
      var ti = el('table', 'list'), h = el('tr'), keys = Object.keys(I[0]);
      keys.forEach(function (k) { h.appendChild(el('th', null, k.replace(/_/g, ' '))); });
      ti.appendChild(h);
      I.forEach(function (row) {
        var r = el('tr');
        keys.forEach(function (k) { var td = el('td'); valueCell(td, k, row[k]); r.appendChild(td); });
        ti.appendChild(r);
      });
      s2.appendChild(ti);
    }
  }

  function bookSection() {
    if (S.mode !== 'book') return;
    var sec = section('sec-book', 'Book mode: execution',
      'Fees are positive costs; negative fees are rebates earned (maker fees are usually rebates).');
    var c = el('div', 'cards');
    [['fill_ratio', 'Fill ratio'], ['maker_share', 'Maker share'], ['taker_share', 'Taker share'],
      ['n_maker_fills', 'Maker fills'], ['n_taker_fills', 'Taker fills'], ['maker_fees', 'Maker fees (neg. = rebates)'],
      ['taker_fees', 'Taker fees'], ['fees_paid', 'Fees net of rebates'], ['quoted_two_sided', 'Quoted two-sided'],
      ['quoted_spread_bps', 'Quoted spread'], ['inventory_max_abs', 'Max |inventory|'], ['inventory_mean_abs', 'Mean |inventory|']]
      .forEach(function (p) {
        if (!(p[0] in S)) return;
        var d = el('div', 'card'), b = el('b');
        d.appendChild(el('span', null, p[1]));
        valueCell(b, p[0], S[p[0]]);
        d.appendChild(b);
        c.appendChild(d);
      });
    sec.appendChild(c);
    var lat = D.config && D.config.book && D.config.book.latency;
    if (lat) {
      var p = el('p', 'note');
      var parts = [];
      ['order_entry_ns', 'cancel_ns', 'response_ns', 'jitter_ns'].forEach(function (k) { if (typeof lat[k] === 'number') parts.push(k.replace(/_ns$/, '').replace(/_/g, ' ') + ' ' + dur(lat[k] / 1e9)); });
      if (lat.market_data != null) parts.push('market data ' + (typeof lat.market_data === 'number' ? dur(lat.market_data / 1e9) : lat.market_data));
      p.textContent = 'Latency (configured): ' + parts.join(', ') + '.';
      sec.appendChild(p);
    }
    var W = D.queue_wait;
    if (W && W.n) sec.appendChild(el('p', 'note', 'Queue wait of maker fills (order submission to fill): median ' +
      dur(W.p50) + ', 90th percentile ' + dur(W.p90) + ', longest ' + dur(W.max) + ', over ' + int(W.n) + ' fills.'));
    var Q = D.curve && D.curve.qspread;
    if (Q && Q.some(function (v) { return v != null; }))
      timeChart(sec, 'Our quoted spread (bid to ask of our resting orders, bp of their mid; gaps: not on both sides)',
        [D.curve.t, Q], [{ label: 'Quoted spread', stroke: '#2a7f62', width: 1.2 }],
        [null, function (v) { return ratio(v) + ' bp'; }], { height: 180 });
  }

  function configSection() {
    var sec = section('sec-config', 'Configuration');
    sec.appendChild(el('pre', null, JSON.stringify(D.config || {}, null, 2)));
  }

  cards();
  equitySection();
  drawdownSection();
  monthlySection();
  histogramSection();
  rollingSection();
  instrumentSections();
  tradeSection();
  bookSection();
  metricsSection();
  configSection();
  main.appendChild(el('p', 'note', 'Definitions of every metric: docs/analytics.md. Drag across a chart to zoom, double-click to reset; the wheel zooms, the arrow keys pan.'));
  /* ms from navigation start to the page drawn, and of that the script's own */
  window.brsReport = { charts: charts, data: D, readyMs: performance.now(), scriptMs: performance.now() - T0 };
  document.body.setAttribute('data-ready', '1');
})();
