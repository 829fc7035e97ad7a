/* report_browser.cjs: opens every report page run.sh made in headless Chromium
 * (Playwright, Debian's /usr/bin/chromium) and checks what a person would:
 * every section that applies renders (canvases drawn, tables filled) without a
 * console error, a hover shows a tooltip with the value under the cursor, a drag
 * zooms every time chart together, the wheel, pan and reset buttons and the
 * log toggle work, the trade table sorts, the sweep heatmap is 10 x 10 and
 * follows the metric picked. Screenshots go to OUT/shots. Render times are
 * printed (a timing is a measurement here, never pass/fail); the 5M-sample
 * page's size is asserted (< 10 MB).
 * Usage: node report_browser.cjs OUT PLAYWRIGHT_CORE_DIR   (exit 77: skipped) */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const out = process.argv[2];
const { chromium } = require(process.argv[3]);

let failures = 0;
/* everything printed also goes to OUT/results.txt (CTest hides a passing test's output) */
const logFile = path.join(out, 'results.txt');
fs.writeFileSync(logFile, '');
const print = console.log;
console.log = (...a) => { print(...a); fs.appendFileSync(logFile, a.join(' ') + '\n'); };
function fail(msg) { failures++; console.log('FAIL: ' + msg); }
function check(cond, msg) { if (!cond) fail(msg); return cond; }

async function openPage(ctx, file) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('request', (r) => { if (!r.url().startsWith('file:')) errors.push('network request: ' + r.url()); });
  const t0 = Date.now();
  await page.goto('file://' + file);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60000 });
  const ms = Date.now() - t0;
  const nav = await page.evaluate(() => performance.now());
  return { page, errors, ms, nav };
}

/* Non-background pixels of every canvas in a section (uPlot draws on canvas). */
async function inked(page, sel) {
  return page.evaluate((sel) => {
    const out = [];
    document.querySelectorAll(sel + ' canvas').forEach((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) n++;
      out.push(n);
    });
    return out;
  }, sel);
}

/* One PNG per section (a whole page can be taller than Chromium captures). */
async function shootSections(page, base, ids) {
  for (const id of ids) {
    const e = await page.$('#' + id);
    if (e) await e.screenshot({ path: path.join(out, 'shots', `${base}-${id.replace('sec-', '')}.png`), timeout: 120000 });
  }
}

async function checkReport(ctx, name, opts) {
  const file = path.join(out, name, 'report.html');
  if (!fs.existsSync(file)) { fail(name + ': no report.html'); return; }
  const size = fs.statSync(file).size;
  const { page, errors, ms, nav } = await openPage(ctx, file);
  const summary = JSON.parse(fs.readFileSync(path.join(out, name, 'summary.json'), 'utf8'));
  const t = await page.evaluate(() => [window.brsReport.readyMs, window.brsReport.scriptMs]);
  console.log(`${name}: report.html ${(size / 1e6).toFixed(2)} MB; drawn ${t[0].toFixed(0)} ms after navigation start (script ${t[1].toFixed(0)} ms; ${ms} ms as Playwright saw it)`);
  const D = await page.evaluate(() => {
    const d = window.brsReport.data;
    return { n: d.curve.t.length, trades: d.trades.length, monthly: d.monthly.length, daily: d.daily.r.length,
             rolling: d.rolling.t.length, window: d.rolling.window, plots: d.plots.length, bench: d.bench };
  });
  /* sections: present exactly when they apply */
  const want = {
    'sec-equity': true, 'sec-drawdown': D.n >= 2, 'sec-monthly': D.monthly >= 2, 'sec-histogram': D.daily >= 10,
    'sec-rolling': D.rolling >= 2, 'sec-position': true, 'sec-price': true, 'sec-trades': D.trades > 0,
    'sec-book': summary.mode === 'book', 'sec-metrics': true, 'sec-instruments': true, 'sec-config': true,
  };
  for (const [id, should] of Object.entries(want)) {
    const has = await page.$('#' + id) !== null;
    check(has === should, `${name}: section ${id} ${has ? 'shown' : 'missing'}, expected ${should ? 'shown' : 'absent'}`);
    if (has && should) {
      const ink = await inked(page, '#' + id);
      if (['sec-equity', 'sec-drawdown', 'sec-monthly', 'sec-histogram', 'sec-rolling', 'sec-position', 'sec-price'].includes(id))
        check(ink.length > 0 && ink.every((n) => n > 200), `${name}: ${id}: a canvas is blank (${ink})`);
      const text = await page.$eval('#' + id, (e) => e.innerText);
      check(text.length > 20, `${name}: ${id}: no text`);
    }
  }
  /* every metric of summary.json has a cell, n/a ones explain why */
  const cells = await page.$$eval('#metrics-table td[data-key]', (tds) => tds.map((t) => [t.getAttribute('data-key'), t.innerText, (t.querySelector('.na') || {}).title || '']));
  for (const [k, v] of Object.entries(summary)) {
    if (k === 'title' || (v !== null && typeof v === 'object')) continue;
    const c = cells.find((x) => x[0] === k);
    if (!check(c, `${name}: metric ${k} has no cell`)) continue;
    if (v === null) check(c[1] === 'n/a' && c[2].length > 5, `${name}: ${k} is null but shows '${c[1]}' without a reason`);
    else check(c[1] !== 'n/a' && !/e[+-]\d/.test(c[1]), `${name}: ${k} = ${v} shows '${c[1]}'`);
  }
  /* hover the equity chart: the tooltip shows the time and the PnL at the cursor */
  const over = await page.$('#sec-equity .u-over');
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width * 0.61, box.y + box.height * 0.5);
  await page.waitForTimeout(50);
  const tip = await page.$eval('#sec-equity .tip', (t) => ({ text: t.innerText, shown: t.style.display }));
  const cur = await page.evaluate(() => {
    const u = window.brsReport.charts[0], i = u.cursor.idx, d = window.brsReport.data;
    return { i, t: u.data[0][i], v: u.data[1][i], eq: d.curve.eq[i], e0: d.summary.start_equity };
  });
  check(tip.shown === 'block' && /\d{4}-\d\d-\d\d/.test(tip.text) && /PnL: /.test(tip.text), `${name}: no tooltip after hover (${JSON.stringify(tip)})`);
  check(cur.i != null && Math.abs(cur.v - (cur.eq - cur.e0)) < 1e-9 * Math.max(1, Math.abs(cur.eq)), `${name}: the hovered PnL ${cur.v} is not equity - start (${cur.eq} - ${cur.e0})`);
  const tipValue = (tip.text.match(/PnL: (.*)/) || [])[1] || '';
  check(Math.abs(Number(tipValue.replace(/,/g, '')) - cur.v) <= Math.max(0.006, Math.abs(cur.v) * 1e-4), `${name}: tooltip '${tipValue}' is not the value ${cur.v}`);
  if (opts.shots) await (await page.$('#sec-equity')).screenshot({ path: path.join(out, 'shots', name + '-hover.png'), timeout: 120000 });
  /* linked cursor: the drawdown chart's cursor sits on the same time */
  if (want['sec-drawdown']) {
    const other = await page.evaluate(() => { const c = window.brsReport.charts; return c.length > 1 && c[1].cursor.idx != null ? c[1].data[0][c[1].cursor.idx] : null; });
    check(other !== null && Math.abs(other - cur.t) <= Math.max(60000, (await page.evaluate(() => { const t = window.brsReport.data.curve.t; return (t[t.length - 1] - t[0]) / 500; }))), `${name}: drawdown cursor not linked (${other} vs ${cur.t})`);
  }
  /* zoom by dragging across the equity chart: every time chart follows */
  const full = await page.evaluate(() => { const u = window.brsReport.charts[0]; return [u.scales.x.min, u.scales.x.max]; });
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.5);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
  await page.mouse.up();
  await page.waitForTimeout(50);
  const z = await page.evaluate(() => window.brsReport.charts.map((u) => [u.scales.x.min, u.scales.x.max]));
  const w0 = full[1] - full[0];
  check(z[0][1] - z[0][0] < w0 * 0.3 && z[0][1] - z[0][0] > w0 * 0.1, `${name}: drag did not zoom to ~20% (${z[0]} of ${full})`);
  check(z.every((x) => x[0] === z[0][0] && x[1] === z[0][1]), `${name}: charts not zoomed together`);
  if (opts.shots) await shootSections(page, name + '-zoomed', ['sec-equity', 'sec-drawdown', 'sec-price']);
  await page.click('#pan-right');
  const p = await page.evaluate(() => { const u = window.brsReport.charts[0]; return [u.scales.x.min, u.scales.x.max]; });
  check(p[0] > z[0][0], `${name}: pan right did not move the view`);
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.mouse.wheel(0, -300);
  await page.waitForTimeout(50);
  const wz = await page.evaluate(() => { const u = window.brsReport.charts[0]; return u.scales.x.max - u.scales.x.min; });
  check(wz < p[1] - p[0], `${name}: the wheel did not zoom in`);
  await page.click('#zoom-reset');
  const r = await page.evaluate(() => { const u = window.brsReport.charts[0]; return [u.scales.x.min, u.scales.x.max]; });
  check(r[0] === full[0] && r[1] === full[1], `${name}: reset did not restore the whole run`);
  /* log scale: equity view, then the toggle */
  await page.click('#eqmode-equity');
  const positive = await page.evaluate(() => window.brsReport.data.curve.eq.every((v) => v > 0));
  if (positive) {
    await page.click('#logscale');
    const distr = await page.evaluate(() => window.brsReport.charts.find((u) => u.root.closest('#sec-equity')).scales.y.distr);
    check(distr === 3, `${name}: log toggle did not make the y axis logarithmic`);
    await page.click('#logscale');
  }
  await page.click('#eqmode-pnl');
  /* the trade table sorts by net PnL */
  if (want['sec-trades']) {
    const ths = await page.$$('#trade-table th');
    await ths[8].click(); /* first click on a value column: descending */
    const col = await page.$$eval('#trade-table tbody tr td:nth-child(9)', (tds) => tds.map((t) => Number(t.innerText.replace(/,/g, ''))));
    check(col.length > 0 && col.every((v, i) => i === 0 || col[i - 1] >= v), `${name}: trades not sorted by net PnL descending`);
    await ths[0].click();
  }
  if (opts.shots) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(out, 'shots', name + '-top.png'), timeout: 120000 });
    await shootSections(page, name, Object.keys(want).filter((k) => want[k]));
  }
  for (const e of errors) fail(`${name}: ${e}`);
  await page.close();
  return { size, ms: t[0] };
}

async function checkSweep(ctx, name, nx, ny) {
  const file = path.join(out, name, 'results.html');
  if (!fs.existsSync(file)) { fail(name + ': no results.html'); return; }
  const { page, errors, ms } = await openPage(ctx, file);
  console.log(`${name}: results.html ${(fs.statSync(file).size / 1e3).toFixed(0)} kB, ready ${ms} ms`);
  await page.selectOption('#hx', 'fast');
  await page.selectOption('#hy', 'slow');
  await page.selectOption('#hm', 'sharpe');
  const grid = await page.evaluate(() => {
    const t = document.getElementById('heatmap');
    return { rows: t.rows.length - 1, cols: t.rows[0].cells.length - 1,
      filled: Array.from(t.querySelectorAll('td.cell')).filter((td) => td.style.background && td.innerText !== '').length,
      text: Array.from(t.querySelectorAll('td.cell')).map((td) => td.innerText).join('|') };
  });
  check(grid.rows === ny && grid.cols === nx, `${name}: heatmap is ${grid.rows} x ${grid.cols}, expected ${ny} x ${nx}`);
  check(grid.filled === nx * ny, `${name}: ${grid.filled} of ${nx * ny} heatmap cells coloured`);
  /* a cell holds the best of its runs: recompute from results.csv */
  const csv = fs.readFileSync(path.join(out, name, 'results.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
  const h = csv[0], iF = h.indexOf('fast'), iS = h.indexOf('slow'), iM = h.indexOf('sharpe');
  const best = {};
  csv.slice(1).forEach((r) => { const k = r[iF] + '/' + r[iS], v = Number(r[iM]); if (r[iM] !== '' && (!(k in best) || v > best[k])) best[k] = v; });
  const cell = await page.$eval('#heatmap td[data-x="5"][data-y="40"]', (td) => td.title).catch(() => '');
  check(cell.includes('sharpe ' + fmt(best['5/40'])), `${name}: cell fast=5 slow=40 says '${cell}', best sharpe is ${best['5/40']}`);
  await page.selectOption('#hm', 'max_drawdown');
  const grid2 = await page.evaluate(() => Array.from(document.querySelectorAll('#heatmap td.cell')).map((td) => td.innerText).join('|'));
  check(grid2 !== grid.text && /%/.test(grid2), `${name}: picking max_drawdown did not redraw the heatmap`);
  await page.screenshot({ path: path.join(out, 'shots', name + '.png'), fullPage: false, timeout: 120000 });
  /* the table sorts, and a cell opens that run's report */
  const ths = await page.$$('#runs th');
  const iSharpe = h.indexOf('sharpe');
  await ths[iSharpe].click();
  const col = await page.$$eval(`#runs tbody tr td:nth-child(${iSharpe + 1})`, (tds) => tds.map((t) => t.title === '' ? null : Number(t.title)));
  const vals = col.filter((v) => v !== null);
  check(vals.every((v, i) => i === 0 || vals[i - 1] >= v), `${name}: table not sorted by sharpe`);
  /* only the best runs keep a directory (--keep-runs top:10): the rank-1 run's
   * cell links to its report, a cell of runs without one says so */
  const top = csv[1], sel = `#heatmap td[data-x="${top[iF]}"][data-y="${top[iS]}"]`;
  const worst = csv[csv.length - 1], wsel = `#heatmap td[data-x="${worst[iF]}"][data-y="${worst[iS]}"]`;
  const wt = await page.$eval(wsel, (td) => td.title).catch(() => '');
  const keptThere = csv.slice(1, 11).some((r) => r[iF] === worst[iF] && r[iS] === worst[iS]);
  if (!keptThere) check(/no run directory kept/.test(wt), `${name}: cell of unkept runs says '${wt}'`);
  const links = await page.$$eval('#runs a', (as) => as.length);
  check(links === 10, `${name}: ${links} report links in the table, expected the 10 kept runs`);
  await Promise.all([page.waitForNavigation(), page.click(sel)]);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });
  check(/report\.html$/.test(page.url()), `${name}: clicking a cell opened ${page.url()}`);
  for (const e of errors) fail(`${name}: ${e}`);
  await page.close();
}
function fmt(v) { const a = Math.abs(v); return a >= 1000 ? v.toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : a >= 1 ? v.toFixed(2) : a === 0 ? '0' : v.toPrecision(3); }

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'brs-chromium-'));
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  } catch (e) {
    console.log('SKIP: chromium could not start: ' + e.message.split('\n')[0]);
    fs.rmSync(profile, { recursive: true, force: true });
    process.exit(77);
  }
  try {
    /* BRS_BROWSER_ONLY=name,name: only those pages (for working on one) */
    const only = process.env.BRS_BROWSER_ONLY ? process.env.BRS_BROWSER_ONLY.split(',') : null;
    const runs = ['demo-book', 'demo-signal', 'demo-mm', 'demo-signal-csvbench', 'spy', 'spy-dense', 'book5m', 'big5m']
      .filter((n) => !only || only.includes(n));
    for (const name of runs) {
      if (!fs.existsSync(path.join(out, name))) { console.log(`NOTE: ${name} was not made (see run.sh output)`); continue; }
      const r = await checkReport(ctx, name, { shots: true });
      if (name === 'big5m' && r) {
        check(r.size < 10 * 1024 * 1024, `big5m: report.html is ${r.size} bytes, the limit is 10 MB`);
        console.log(`big5m: 5,000,000 samples -> ${r.size} bytes; opened and drawn in ${r.ms} ms (measured, not asserted)`);
      }
    }
    if (!only || only.includes('sweep200')) {
    const demoRuns = fs.readdirSync(path.join(out, 'demo-sweep')).filter((d) => fs.existsSync(path.join(out, 'demo-sweep', d, 'report.html')));
    check(demoRuns.length === 6, `demo-sweep: ${demoRuns.length} run reports, expected 6`);
    await checkSweep(ctx, 'sweep200', 10, 10);
    }
  } catch (e) {
    fail('exception: ' + (e.stack || e.message));
  }
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
  console.log(failures ? `${failures} failure(s)` : 'all browser checks passed; screenshots in ' + path.join(out, 'shots'));
  process.exit(failures ? 1 : 0);
})();
