// ui.js: the research dashboard's page (served by `bourse ui`): runs table,
// comparison chart, sweeps, launch form and live job progress. No network
// beyond the dashboard's own origin.
(function () {
  'use strict';
  const $ = (id) => document.getElementById(id);
  let state = { runs: [], sweeps: [], configs: [], sortKey: 'mtime', sortDir: -1 };
  const pct = (v) => v == null ? 'n/a' : (v * 100).toFixed(2) + '%';
  const num = (v, d) => v == null ? 'n/a' : Number(v).toFixed(d);
  const cls = (v) => v == null ? 'muted' : v < 0 ? 'neg' : 'pos';
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
  const fileUrl = (rel) => '/files/' + rel.split('/').map(encodeURIComponent).join('/');

  async function getJSON(url, opts) {
    const r = await fetch(url, opts);
    const j = await r.json().catch(() => ({ error: r.statusText }));
    if (!r.ok) throw new Error(j.error || r.statusText);
    return j;
  }

  function metric(r, k) { return k in r.metrics ? r.metrics[k] : r[k]; }

  function renderRuns() {
    const rows = state.runs.slice().sort((a, b) => {
      let x = metric(a, state.sortKey), y = metric(b, state.sortKey);
      if (x == null) return 1; if (y == null) return -1;
      return (x < y ? -1 : x > y ? 1 : 0) * state.sortDir;
    });
    $('nruns').textContent = '(' + rows.length + ')';
    $('runs').tBodies[0].innerHTML = rows.map((r) => {
      const m = r.metrics, when = r.mtime ? new Date(r.mtime * 1000).toISOString().slice(0, 16).replace('T', ' ') : '';
      return '<tr data-path="' + esc(r.path) + '"><td class="l"><input type="checkbox" class="sel"></td>' +
        '<td class="l path" title="' + esc(r.title) + '">' + (r.report ? '<a href="#" class="open">' + esc(r.path) + '</a>' : esc(r.path)) + '</td>' +
        '<td class="l">' + esc(r.strategy) + '</td><td class="l">' + esc(r.mode) + '</td>' +
        '<td class="' + cls(m.total_return) + '">' + pct(m.total_return) + '</td><td class="' + cls(m.cagr) + '">' + pct(m.cagr) + '</td>' +
        '<td>' + num(m.sharpe, 2) + '</td><td class="neg">' + pct(m.max_drawdown == null ? null : -m.max_drawdown) + '</td>' +
        '<td>' + (m.n_trades == null ? 'n/a' : m.n_trades) + '</td><td class="muted">' + when + '</td></tr>';
    }).join('');
  }

  function renderSweeps() {
    $('sweeps').tBodies[0].innerHTML = state.sweeps.map((s) =>
      '<tr><td class="l">' + esc(s.path) + '</td><td>' + s.combinations + '</td><td>' +
      (s.html ? '<a href="#" class="sweep" data-path="' + esc(s.path) + '">results</a>' : '<span class="muted">no results.html</span>') +
      '</td></tr>').join('') || '<tr><td class="l muted" colspan="3">none under this folder</td></tr>';
  }

  function renderConfigs() {
    const sel = $('cfg'), cur = sel.value;
    sel.innerHTML = state.configs.map((c) => '<option value="' + esc(c.path) + '">' + esc(c.path) + ' (' + esc(c.mode) + ')</option>').join('');
    if (cur && state.configs.some((c) => c.path === cur)) sel.value = cur;
    renderParams();
  }

  function renderParams() {
    const c = state.configs.find((x) => x.path === $('cfg').value);
    const box = $('params');
    if (!c) { box.innerHTML = ''; return; }
    box.innerHTML = '<div class="muted">strategy ' + esc(c.strategy) + '</div>' + Object.entries(c.params || {}).map(([k, v]) =>
      '<label for="p_' + esc(k) + '">' + esc(k) + '</label><input class="param" id="p_' + esc(k) + '" data-k="' + esc(k) +
      '" data-num="' + (typeof v === 'number') + '" value="' + esc(v) + '">').join('');
  }

  async function refresh() {
    const j = await getJSON('/api/runs');
    $('root').textContent = j.root;
    state.runs = j.runs; state.sweeps = j.sweeps; state.configs = j.configs;
    renderRuns(); renderSweeps();
    if (!$('cfg').options.length) renderConfigs();
  }

  function open(title, url) {
    $('viewer').hidden = false; $('vtitle').textContent = title; $('frame').src = url;
    $('viewer').scrollIntoView({ behavior: 'smooth' });
  }

  let chart = null;
  async function compare() {
    const paths = [...document.querySelectorAll('#runs .sel:checked')].map((cb) => cb.closest('tr').dataset.path);
    const box = $('compare');
    if (paths.length < 2) { box.innerHTML = '<p class="err">Tick at least two runs to compare.</p>'; return; }
    const series = await Promise.all(paths.map((p) => getJSON('/api/equity?run=' + encodeURIComponent(p))));
    // one time axis: the union of every run's times, each run's return carried forward
    const ts = [...new Set(series.flatMap((s) => s.t))].sort((a, b) => a - b);
    const cols = series.map((s) => {
      const out = new Array(ts.length).fill(null); let k = 0, last = null;
      for (let i = 0; i < ts.length; i++) { while (k < s.t.length && s.t[k] <= ts[i]) last = s.ret[k++]; out[i] = last; }
      return out;
    });
    const colors = ['#2d6cdf', '#e67e22', '#27ae60', '#8e44ad', '#c0392b', '#16a085', '#7f8c8d'];
    box.innerHTML = '';
    if (chart) chart.destroy();
    chart = new uPlot({
      width: box.clientWidth || 800, height: 320, title: 'Return since start',
      scales: { x: { time: true } },
      axes: [{}, { values: (u, v) => v.map((x) => (x * 100).toFixed(1) + '%'), size: 60 }],
      series: [{}].concat(series.map((s, i) => ({ label: s.run, stroke: colors[i % colors.length], width: 1.5,
        value: (u, v) => v == null ? '-' : (v * 100).toFixed(2) + '%' }))),
    }, [ts].concat(cols), box);
    box.dataset.series = String(series.length);
  }

  async function launch() {
    $('lerr').textContent = '';
    const params = {};
    for (const el of document.querySelectorAll('#params .param')) {
      const v = el.value.trim();
      params[el.dataset.k] = el.dataset.num === 'true' && v !== '' && !isNaN(Number(v)) ? Number(v) : v;
    }
    const body = { kind: $('kind').value, config: $('cfg').value, params };
    if (body.kind === 'sweep') {
      body.grid = {};
      for (const tok of $('grid').value.trim().split(/\s+/).filter(Boolean)) {
        const i = tok.indexOf('=');
        if (i < 1) { $('lerr').textContent = 'grid: write name=values, e.g. fast=5,10,20'; return; }
        body.grid[tok.slice(0, i)] = tok.slice(i + 1);
      }
      for (const k of Object.keys(body.grid)) delete params[k];
    }
    try {
      await getJSON('/api/launch', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      pollJobs();
    } catch (e) { $('lerr').textContent = e.message; }
  }

  let polling = null;
  async function pollJobs() {
    const j = await getJSON('/api/jobs');
    const box = $('jobs');
    if (!j.jobs.length) return;
    box.innerHTML = j.jobs.slice().reverse().map((x) => {
      const p = x.progress == null ? 0 : Math.max(0, Math.min(1, x.progress));
      const links = (x.report ? ' <a href="#" class="openjob" data-path="' + esc(x.report) + '">open report</a>' : '') +
        (x.results ? ' <a href="#" class="sweep" data-path="' + esc(x.results) + '">open results</a>' : '') +
        (x.state === 'running' ? ' <button class="cancel" data-id="' + x.id + '">stop</button>' : '');
      return '<div class="job" data-id="' + x.id + '" data-state="' + x.state + '"><b>#' + x.id + '</b> ' + esc(x.label) +
        ' <span class="state">' + x.state + '</span> <span class="muted">' + x.seconds.toFixed(1) + ' s</span>' + links +
        '<div class="bar"><div style="width:' + (p * 100).toFixed(1) + '%"></div></div>' +
        '<span class="pct">' + (x.progress == null ? '' : (p * 100).toFixed(1) + '%') + '</span>' +
        '<pre>' + esc(x.tail.trim().split('\n').slice(-6).join('\n')) + '</pre></div>';
    }).join('');
    const running = j.jobs.some((x) => x.state === 'running');
    if (running && !polling) polling = setInterval(pollJobs, 400);
    if (!running && polling) { clearInterval(polling); polling = null; refresh(); }
  }

  document.addEventListener('click', (ev) => {
    const t = ev.target;
    if (t.matches('#runs th[data-k]')) {
      const k = t.dataset.k; state.sortDir = state.sortKey === k ? -state.sortDir : -1; state.sortKey = k; renderRuns();
    } else if (t.matches('a.open')) {
      ev.preventDefault(); const p = t.closest('tr').dataset.path; open(p, fileUrl(p + '/report.html'));
    } else if (t.matches('a.openjob')) {
      ev.preventDefault(); open(t.dataset.path, fileUrl(t.dataset.path + '/report.html'));
    } else if (t.matches('a.sweep')) {
      ev.preventDefault(); open(t.dataset.path, fileUrl(t.dataset.path + '/results.html'));
    } else if (t.matches('button.cancel')) {
      fetch('/api/cancel/' + t.dataset.id, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    }
  });
  $('cmp').addEventListener('click', () => compare().catch((e) => { $('compare').innerHTML = '<p class="err">' + esc(e.message) + '</p>'; }));
  $('go').addEventListener('click', launch);
  $('cfg').addEventListener('change', renderParams);
  $('kind').addEventListener('change', () => { $('gridbox').hidden = $('kind').value !== 'sweep'; });
  refresh().then(pollJobs).then(() => document.body.setAttribute('data-ready', '1'))
    .catch((e) => { document.body.insertAdjacentHTML('afterbegin', '<p class="err">' + esc(e.message) + '</p>'); });
})();
