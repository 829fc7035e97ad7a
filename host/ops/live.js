/* live.js: the live dashboard's page script. It listens to /live/events
 * (server-sent events: one "history" event, then a "snap" every time the
 * server publishes, about every 100 ms) and redraws the tables and the PnL
 * chart in place; nothing is fetched from anywhere else. */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const num = (v, d) => (v === null || v === undefined ? '' : Number(v).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
  const signed = (v) => `<td class="${v < 0 ? 'neg' : v > 0 ? 'pos' : ''}">${num(v, 2)}</td>`;
  const secs = (v) => (v < 0 ? '' : v < 1e-3 ? (v * 1e6).toFixed(0) + ' µs' : v < 1 ? (v * 1e3).toFixed(1) + ' ms' : v.toFixed(2) + ' s');
  const hms = (ms) => new Date(ms).toISOString().slice(11, 23);
  function rows(id, list, fn) {
    const tb = document.querySelector('#' + id + ' tbody');
    tb.innerHTML = list.map(fn).join('');
  }

  // PnL over time: one series per account, points from the history event and
  // then one per snapshot (at most 6000 kept).
  const MAXPTS = 6000;
  let chart = null, names = [], data = [[]];
  const colors = ['#2d6cdf', '#e67e22', '#1e8449', '#8e44ad', '#c0392b', '#16a085', '#7f8c8d', '#d35400'];
  function build() {
    if (chart) chart.destroy();
    chart = new uPlot({ width: Math.max(400, $('pnl').clientWidth - 10), height: 220,
      scales: { x: { time: true } },
      series: [{}].concat(names.map((n, i) => ({ label: n, stroke: colors[i % colors.length], width: 1.5, points: { show: false } }))),
      axes: [{}, { size: 70 }] }, data, $('pnl'));
    $('pnl').dataset.series = String(names.length);
  }
  // the accounts may change (a restart): keep each one's points by name
  function chartFor(accs) {
    const want = accs.map((a) => a.name);
    if (chart && want.join('\u0001') === names.join('\u0001')) return;
    const old = {};
    names.forEach((n, i) => (old[n] = data[i + 1]));
    names = want;
    data = [data[0]].concat(names.map((n) => old[n] || data[0].map(() => null)));
    build();
  }
  function addPoint(tms, accs) {
    data[0].push(tms / 1000);
    accs.forEach((a, i) => data[i + 1].push(a.pnl));
    if (data[0].length > MAXPTS) data.forEach((d) => d.splice(0, d.length - MAXPTS));
    chart.setData(data);
  }

  function onHistory(h) {
    names = Object.keys(h.pnl);
    data = [h.t.map((t) => t / 1000)].concat(names.map((n) => h.pnl[n].slice()));
    build();
  }

  let lastFill = null;
  function onSnap(s) {
    document.title = s.title + ' — live';
    $('title').textContent = s.title;
    $('kind').textContent = s.kind;
    $('clock').textContent = new Date(s.t).toISOString().replace('T', ' ').slice(0, 23) + ' UTC';
    $('totals').textContent = `${s.open_orders} open orders · ${s.fills_total} fills`;
    $('nopen').textContent = `(${s.open_orders}${s.open_orders > s.orders.length ? ', newest ' + s.orders.length + ' shown' : ''})`;
    rows('accounts', s.accounts, (a) => `<tr data-name="${esc(a.name)}"><td class="l">${esc(a.name)}</td><td class="l">${esc(a.state)}</td><td>${a.seq_in}</td><td>${a.seq_out}</td>${signed(a.pnl)}</tr>`);
    rows('positions', s.positions, (p) => `<tr data-key="${esc(p.account + '/' + p.symbol)}"><td class="l">${esc(p.account)}</td><td class="l">${esc(p.symbol)}</td><td class="position">${p.position}</td><td>${num(p.avg_price, 4)}</td>${signed(p.realized)}${signed(p.unrealized)}<td>${p.fills}</td></tr>`);
    rows('books', s.books, (b) => `<tr data-symbol="${esc(b.symbol)}"><td class="l">${esc(b.venue)}</td><td class="l">${esc(b.symbol)}</td><td>${b.bid_qty || ''}</td><td class="bid">${b.bid === null ? '—' : b.bid}</td><td class="ask">${b.ask === null ? '—' : b.ask}</td><td>${b.ask_qty || ''}</td><td>${b.last === null ? '' : b.last}</td></tr>`);
    rows('latency', s.latency, (l) => `<tr><td class="l">${esc(l.name)}</td><td>${l.count}</td><td>${secs(l.p50)}</td><td>${secs(l.p90)}</td><td>${secs(l.p99)}</td></tr>`);
    rows('orders', s.orders, (o) => `<tr data-id="${o.id}"><td class="l">${esc(o.account)}</td><td class="l">${esc(o.clordid)}</td><td>${o.id}</td><td class="l">${esc(o.symbol)}</td><td class="l">${o.side}</td><td>${o.price}</td><td>${o.qty}</td><td>${o.leaves}</td><td>${o.cum}</td></tr>`);
    const newest = s.fills.length ? s.fills[0].order + '/' + s.fills[0].t + '/' + s.fills_total : null;
    rows('fills', s.fills, (f, i) => `<tr><td class="l${i === 0 && newest !== lastFill ? ' new' : ''}">${hms(f.t)}</td><td class="l">${esc(f.account)}</td><td class="l">${esc(f.symbol)}</td><td class="l">${f.side}</td><td>${f.qty}</td><td>${f.price}</td><td class="l">${esc(f.clordid)}</td><td class="l">${esc(f.venue)}</td></tr>`);
    lastFill = newest;
    chartFor(s.accounts);
    addPoint(s.t, s.accounts);
    document.body.dataset.version = String(s.v);
    document.body.dataset.ready = '1';
  }

  function connect() {
    const es = new EventSource('/live/events');
    es.addEventListener('open', () => { $('dot').className = 'dot on'; $('status').textContent = 'live'; });
    es.addEventListener('error', () => { $('dot').className = 'dot'; $('status').textContent = 'reconnecting'; });
    es.addEventListener('history', (e) => onHistory(JSON.parse(e.data)));
    es.addEventListener('snap', (e) => onSnap(JSON.parse(e.data)));
  }
  connect();
})();
