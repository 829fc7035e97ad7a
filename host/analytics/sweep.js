/* sweep.js: draws results.html (sweep_report.c) from results.csv's rows: a
 * heatmap over two parameters chosen in the page with the metric chosen in the
 * page, and a sortable table; every run links to its report. Inlined at build time. */
(function () {
  'use strict';
  var rows = JSON.parse(document.getElementById('brs-sweep').textContent);
  var main = document.getElementById('sweep');
  var head = rows.shift() || [];
  /* header: rank, the grid's parameters, status, the metrics, then the run's
   * directory (run_dir: a path; run: its name under the sweep) and any other
   * columns (id, error) shown as text */
  var iStatus = head.indexOf('status'), iDir = head.indexOf('run_dir');
  if (iDir < 0) iDir = head.indexOf('run');
  var params = head.slice(1, iStatus > 0 ? iStatus : 1);
  var metrics = iStatus > 0 ? head.slice(iStatus + 1, iDir > 0 ? iDir : head.length) : [];
  var iEndMetrics = iStatus + 1 + metrics.length;
  var iRep = head.indexOf('report'); /* added by the page's writer: the run's report.html exists */
  /* bourse sweep's id and error columns sit before run_dir: not metrics */
  metrics = metrics.filter(function (m) { return m !== 'id' && m !== 'error'; });
  var LOWER = { max_drawdown: 1, ann_volatility: 1, max_drawdown_days: 1, ulcer_index: 1, fees_paid: 1, gross_loss: 1 };
  var PCT = { total_return: 1, cagr: 1, ann_volatility: 1, max_drawdown: 1, win_rate: 1, exposure: 1 };
  function el(t, c, x) { var e = document.createElement(t); if (c) e.className = c; if (x != null) e.textContent = x; return e; }
  function val(s) { if (s === '' || s == null) return null; var v = Number(s); return isFinite(v) ? v : s; }
  function fmt(m, v) {
    if (v == null || typeof v !== 'number') return v == null ? 'n/a' : String(v);
    if (PCT[m]) return (v * 100).toFixed(2) + '%';
    var a = Math.abs(v);
    return a >= 1000 ? v.toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : a >= 1 ? v.toFixed(2) : a === 0 ? '0' : v.toPrecision(3);
  }
  function link(r) { var d = r[iDir] || ''; var b = d.split('/').pop(); return encodeURI(b) + '/report.html'; }
  var data = rows.map(function (r) { return r.map(function (x, i) { return i === iDir || i === iStatus || i === iRep || i >= iEndMetrics ? x : val(x); }); });

  /* ---- heatmap ---- */
  var hs = el('section'); hs.id = 'sec-heatmap';
  hs.appendChild(el('h2', null, 'Heatmap'));
  var ctl = el('div', 'controls');
  function select(id, label, opts, dflt) {
    var l = el('label', null, label + ' '), s = el('select');
    s.id = id;
    opts.forEach(function (o) { var op = el('option', null, o); op.value = o; s.appendChild(op); });
    s.value = dflt;
    l.appendChild(s); ctl.appendChild(l);
    s.onchange = heat;
    return s;
  }
  var sx = select('hx', 'x', params, params[params.length - 1] || '');
  var sy = select('hy', 'y', params, params.length > 1 ? params[params.length - 2] : params[0] || '');
  var sm = select('hm', 'metric', metrics, metrics.indexOf('sharpe') >= 0 ? 'sharpe' : metrics[0] || '');
  var sa = select('ha', 'cells with several runs', ['best', 'mean', 'worst'], 'best');
  hs.appendChild(ctl);
  var note = el('p', 'note');
  hs.appendChild(note);
  var hbox = el('div');
  hs.appendChild(hbox);
  main.appendChild(hs);
  function sortVals(vs) { return vs.sort(function (a, b) { return typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1; }); }
  function uniq(i) { var seen = {}, out = []; data.forEach(function (r) { var k = String(r[i]); if (!seen[k]) { seen[k] = 1; out.push(r[i]); } }); return sortVals(out); }
  function heat() {
    hbox.innerHTML = '';
    if (!params.length || !metrics.length) { note.textContent = 'No parameters or metrics in results.csv.'; return; }
    var ix = head.indexOf(sx.value), iy = head.indexOf(sy.value), im = head.indexOf(sm.value), m = sm.value;
    var xs = uniq(ix), ys = uniq(iy), better = LOWER[m] ? -1 : 1, cells = {}, lo = Infinity, hi = -Infinity;
    data.forEach(function (r) {
      var v = r[im];
      var k = String(r[ix]) + '\u0000' + String(r[iy]);
      var c = cells[k] = cells[k] || { vals: [], rows: [] };
      c.rows.push(r);
      if (typeof v === 'number' && r[iStatus] === 'ok') c.vals.push(v);
    });
    Object.keys(cells).forEach(function (k) {
      var c = cells[k], v = null;
      if (c.vals.length) {
        if (sa.value === 'mean') v = c.vals.reduce(function (a, b) { return a + b; }, 0) / c.vals.length;
        else v = (sa.value === 'best') === (better > 0) ? Math.max.apply(null, c.vals) : Math.min.apply(null, c.vals);
        c.best = c.rows.filter(function (r) { return r[im] === (sa.value === 'mean' ? r[im] : v); })[0] || c.rows[0];
      } else c.best = c.rows[0];
      c.v = v;
      if (v != null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    });
    note.textContent = sx.value === sy.value ? 'Pick two different parameters.' :
      'Colour: ' + m + (better > 0 ? ' (higher is better, green)' : ' (lower is better, green)') + '; range ' + fmt(m, lo) + ' to ' + fmt(m, hi) + '.';
    var t = el('table', 'heat');
    t.id = 'heatmap';
    var h = el('tr');
    h.appendChild(el('th', null, sy.value + ' \\ ' + sx.value));
    xs.forEach(function (x) { h.appendChild(el('th', null, String(x))); });
    t.appendChild(h);
    ys.slice().reverse().forEach(function (y) {
      var tr = el('tr');
      tr.appendChild(el('th', null, String(y)));
      xs.forEach(function (x) {
        var c = cells[String(x) + '\u0000' + String(y)], td = el('td', 'cell', c ? fmt(m, c.v) : '');
        if (c) {
          var f = hi > lo && c.v != null ? (c.v - lo) / (hi - lo) : 0.5;
          if (better < 0) f = 1 - f;
          var r = Math.round(214 - f * (214 - 30)), g = Math.round(58 + f * (158 - 58)), b = Math.round(47 + f * (74 - 47));
          td.style.background = c.v == null ? '#eee' : 'rgba(' + r + ',' + g + ',' + b + ',0.75)';
          td.title = sx.value + '=' + x + ', ' + sy.value + '=' + y + ': ' + m + ' ' + fmt(m, c.v) + ' (' + c.rows.length + ' run' + (c.rows.length > 1 ? 's' : '') + ')';
          td.setAttribute('data-x', String(x)); td.setAttribute('data-y', String(y));
          if (c.best[iRep] === '1' || c.best[iRep] === '?') td.onclick = function () { window.location.href = link(c.best); };
          else { td.style.cursor = 'default'; td.title += '; no run directory kept (bourse sweep --keep-runs all keeps every one)'; }
        }
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    hbox.appendChild(t);
  }
  heat();

  /* ---- table ---- */
  var ts = el('section'); ts.id = 'sec-table';
  ts.appendChild(el('h2', null, 'All runs'));
  var box = el('div'); box.id = 'tablebox';
  var t = el('table'); t.id = 'runs';
  var thead = el('thead'), hr = el('tr'), body = el('tbody'), order = { c: 0, d: 1 };
  head.forEach(function (name, i) {
    var th = el('th', null, name);
    th.onclick = function () { order.d = order.c === i ? -order.d : (LOWER[name] || i <= params.length ? 1 : -1); order.c = i; fill(); };
    hr.appendChild(th);
  });
  thead.appendChild(hr); t.appendChild(thead); t.appendChild(body);
  function fill() {
    var i = order.c;
    data.sort(function (a, b) {
      var x = a[i], y = b[i];
      if (x == null && y != null) return 1;
      if (y == null && x != null) return -1;
      return ((x < y ? -1 : x > y ? 1 : 0) * order.d) || a[0] - b[0];
    });
    body.innerHTML = '';
    data.forEach(function (r) {
      var tr = el('tr');
      r.forEach(function (v, j) {
        var td = el('td', j === iStatus && v !== 'ok' ? 'failed' : null);
        if (j === iRep && (v === '1' || v === '?')) { var a = el('a', null, 'report'); a.href = link(r); td.appendChild(a); }
        else if (j === iRep) { td.textContent = '\u2014'; td.title = 'no run directory kept (--keep-runs)'; }
        else td.textContent = j > iStatus && j < iEndMetrics && iStatus > 0 ? fmt(head[j], v) : v == null ? '' : String(v);
        if (typeof v === 'number') td.title = String(v);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    Array.prototype.forEach.call(hr.children, function (th, j) { th.setAttribute('data-sort', j === order.c ? (order.d > 0 ? 'asc' : 'desc') : ''); });
  }
  fill();
  box.appendChild(t); ts.appendChild(box); main.appendChild(ts);
  document.body.setAttribute('data-ready', '1');
})();
