/* ui_browser.cjs: `bourse ui` driven as a researcher would in headless Chromium
 * (Playwright, Debian's /usr/bin/chromium): the runs table lists both runs with
 * their metrics and sorts, two runs are compared on one chart, a sweep's
 * results page opens with its heatmap, a parameter is changed and a backtest
 * launched, its progress is seen, and its report opens. Requests from another
 * origin and a config whose script lies outside the folder are refused.
 * Screenshots go to OUT/shots. Usage: node ui_browser.cjs URL OUT PLAYWRIGHT_CORE_DIR */
'use strict';
const path = require('path');
const http = require('http');
const [url, out, pw] = process.argv.slice(2);
const { chromium } = require(pw);

let failures = 0;
function check(cond, msg) { if (!cond) { failures++; console.log('FAIL: ' + msg); } else console.log('ok: ' + msg); return cond; }

function post(pathname, body, headers) {
  return new Promise((resolve, reject) => {
    const u = new URL(pathname, url);
    const data = JSON.stringify(body);
    const req = http.request({ hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST',
      headers: Object.assign({ 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) }, headers) }, (res) => {
      let b = ''; res.on('data', (c) => (b += c)); res.on('end', () => resolve({ status: res.statusCode, body: b }));
    });
    req.on('error', reject); req.end(data);
  });
}

(async () => {
  let browser;
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync'] });
  } catch (e) { console.log('SKIP: chromium cannot start: ' + e.message); process.exit(77); }
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => { if (!r.url().startsWith(url)) errors.push('request outside the dashboard: ' + r.url()); });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 30000 });

  // the runs table
  const rows = await page.$$eval('#runs tbody tr', (trs) => trs.map((t) => [t.dataset.path, t.children[4].textContent]));
  check(rows.some((r) => r[0] === 'runs/sma-10-40') && rows.some((r) => r[0] === 'runs/sma-5-20'), 'both runs listed: ' + JSON.stringify(rows.map((r) => r[0])));
  check(rows.every((r) => /%$/.test(r[1])), 'returns shown as percentages');
  await page.click('#runs th[data-k="sharpe"]');
  const sharpes = await page.$$eval('#runs tbody tr', (trs) => trs.map((t) => parseFloat(t.children[6].textContent)));
  check(sharpes.every((v, i) => i === 0 || isNaN(v) || isNaN(sharpes[i - 1]) || sharpes[i - 1] >= v), 'sorted by Sharpe, best first: ' + sharpes);

  // two runs compared on one chart
  for (const p of ['runs/sma-10-40', 'runs/sma-5-20'])
    await page.check(`#runs tr[data-path="${p}"] .sel`);
  await page.click('#cmp');
  await page.waitForSelector('#compare canvas', { timeout: 10000 });
  check(await page.$eval('#compare', (e) => e.dataset.series) === '2', 'the comparison chart has two series');
  const legend = await page.$$eval('#compare .u-legend .u-series', (s) => s.map((x) => x.textContent));
  check(legend.some((t) => t.includes('runs/sma-10-40')) && legend.some((t) => t.includes('runs/sma-5-20')), 'the legend names both runs');
  await page.screenshot({ path: path.join(out, 'shots', 'ui-compare.png') });

  // a sweep's results page, in the viewer
  await page.click('a.sweep[data-path="sweeps/small"]');
  const frame = page.frameLocator('#frame');
  await frame.locator('body[data-ready="1"]').waitFor({ timeout: 30000 });
  check(await frame.locator('table').count() > 0, 'the sweep results page shows its table');
  await page.screenshot({ path: path.join(out, 'shots', 'ui-sweep.png') });

  // launch a backtest with a changed parameter; see its progress; open its report
  await page.selectOption('#cfg', 'configs/demo-signal.json');
  await page.fill('#p_fast', '7');
  await page.click('#go');
  await page.waitForSelector('#jobs .job', { timeout: 10000 });
  const seen = new Set();
  for (let i = 0; i < 600; i++) {
    const st = await page.$eval('#jobs .job', (j) => [j.dataset.state, j.querySelector('.pct').textContent]);
    seen.add(st[0]);
    if (st[0] !== 'running') break;
    await page.waitForTimeout(100);
  }
  const final = await page.$eval('#jobs .job', (j) => j.dataset.state);
  check(final === 'done', 'the launched backtest finished: ' + final + ' (states seen: ' + [...seen] + ')');
  check(await page.$eval('#jobs .job .pct', (e) => e.textContent) === '100.0%', 'its progress reached 100%');
  await page.screenshot({ path: path.join(out, 'shots', 'ui-job.png') });
  await page.click('#jobs a.openjob');
  await frame.locator('body[data-ready="1"]').waitFor({ timeout: 30000 });
  const title = await frame.locator('h1').first().textContent();
  check(/sma|SMA/.test(title), 'the launched run\'s report opens: ' + title);
  // the new run's parameter reached it: its config.json says fast=7
  const cfgText = await page.evaluate(async () => {
    const j = await (await fetch('/api/jobs')).json();
    const r = await fetch('/files/' + j.jobs[0].out + '/config.json');
    return r.text();
  });
  check(/"fast":\s*7\b/.test(cfgText), 'the edited parameter is in the run\'s config.json');
  await page.reload();
  await page.waitForSelector('body[data-ready="1"]');
  check(await page.$$eval('#runs tbody tr', (t) => t.length) >= 3, 'the launched run joins the table');
  await page.screenshot({ path: path.join(out, 'shots', 'ui-after.png'), fullPage: true });

  // refusals: another origin, a script outside the folder, a config outside it
  const evil = await post('/api/launch', { kind: 'backtest', config: 'configs/demo-signal.json' }, { Origin: 'http://evil.example' });
  check(evil.status === 403, 'a POST from another origin is refused (403): ' + evil.status);
  const esc = await post('/api/launch', { kind: 'backtest', config: 'configs/escape.json' }, {});
  check(esc.status === 400 && /not inside/.test(esc.body), 'a config naming a script outside the folder is refused: ' + esc.body);
  const out2 = await post('/api/launch', { kind: 'backtest', config: '../run1.log' }, {});
  check(out2.status === 400, 'a config outside the folder is refused: ' + out2.body);
  const inj = await post('/api/launch', { kind: 'backtest', config: 'configs/demo-signal.json', params: { fast: '1 --out /tmp/x' } }, {});
  check(inj.status === 400, 'a parameter that is not a plain value is refused: ' + inj.body);

  check(errors.length === 0, 'no console errors or outside requests: ' + JSON.stringify(errors));
  await browser.close();
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
})().catch((e) => { console.log('FAIL: ' + (e.stack || e)); process.exit(1); });
