/* live_browser.cjs: the live dashboard of `bourse serve` driven in headless
 * Chromium (Playwright, Debian's /usr/bin/chromium) while two FIX sessions
 * trade through the gateway: sessions and their sequence numbers, a resting
 * order among the open orders and on the top of book, then a fill the test
 * causes shows as a position change within a second (no page reload), the
 * fills tape, PnL and latency percentiles. Refuses another origin and a third
 * stream (max_dashboard_clients 2). Screenshots go to OUT/shots.
 * Usage: node live_browser.cjs URL FIX_PORT OUT PLAYWRIGHT_CORE_DIR */
'use strict';
const path = require('path');
const net = require('net');
const http = require('http');
const [url, fixPort, out, pw] = process.argv.slice(2);
const { chromium } = require(pw);

let failures = 0;
function check(cond, msg) { if (!cond) { failures++; console.log('FAIL: ' + msg); } else console.log('ok: ' + msg); return cond; }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* A minimal FIX 4.4 initiator: enough to log on and enter orders. */
class Fix {
  constructor(comp) { this.comp = comp; this.seq = 1; this.buf = ''; this.msgs = []; this.waiters = []; }
  connect() {
    return new Promise((resolve, reject) => {
      this.sock = net.connect(Number(fixPort), '127.0.0.1', resolve);
      this.sock.on('error', reject);
      this.sock.on('data', (d) => {
        this.buf += d.toString('latin1');
        let m;
        while ((m = /10=\d{3}\x01/.exec(this.buf))) {
          const raw = this.buf.slice(0, m.index + m[0].length);
          this.buf = this.buf.slice(m.index + m[0].length);
          const f = {};
          for (const kv of raw.split('\x01')) { const i = kv.indexOf('='); if (i > 0) f[kv.slice(0, i)] = kv.slice(i + 1); }
          f.at = Date.now();
          this.msgs.push(f);
          // answer a TestRequest so the session stays up
          if (f['35'] === '1') this.send('0', [[112, f['112']]]);
        }
        this.waiters = this.waiters.filter((w) => !w());
      });
    });
  }
  send(type, fields) {
    const ts = new Date().toISOString().replace(/-/g, '').replace('T', '-').slice(0, 21);
    const body = [[35, type], [34, this.seq++], [49, this.comp], [52, ts], [56, 'EXEC']].concat(fields)
      .map(([t, v]) => `${t}=${v}\x01`).join('');
    const head = `8=FIX.4.4\x019=${Buffer.byteLength(body, 'latin1')}\x01`;
    let sum = 0;
    for (const b of Buffer.from(head + body, 'latin1')) sum += b;
    this.sock.write(head + body + `10=${String(sum % 256).padStart(3, '0')}\x01`, 'latin1');
  }
  /* the first message since `from` (an index into msgs) that pred accepts */
  wait(pred, from = 0, ms = 10000) {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(this.comp + ': no such message within ' + ms + ' ms')), ms);
      const look = () => {
        const m = this.msgs.slice(from).find(pred);
        if (m) { clearTimeout(t); resolve(m); return true; }
        return false;
      };
      if (!look()) this.waiters.push(look);
    });
  }
  order(clordid, side, qty, px) {
    this.send('D', [[11, clordid], [21, 1], [38, qty], [40, 2], [44, px], [54, side], [55, 'AAPL'], [59, 1], [60, '20261206-10:00:00']]);
  }
}

function get(pathname, headers) {
  return new Promise((resolve) => {
    const u = new URL(pathname, url);
    const req = http.get({ hostname: u.hostname, port: u.port, path: u.pathname, headers }, (res) => {
      resolve({ status: res.statusCode, type: res.headers['content-type'] || '', res });
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
  });
}

(async () => {
  let browser;
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync'] });
  } catch (e) { console.log('SKIP: chromium cannot start: ' + e.message); process.exit(77); }
  const a = new Fix('CLIENT1'), b = new Fix('CLIENT2');
  try {
    const page = await (await browser.newContext({ viewport: { width: 1400, height: 1100 } })).newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    const origin = new URL(url).origin;
    page.on('request', (r) => { if (!r.url().startsWith(origin)) errors.push('request outside the dashboard: ' + r.url()); });
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
    const names = await page.$$eval('#accounts tbody tr', (t) => t.map((r) => r.dataset.name + ':' + r.children[1].textContent));
    check(names.join() === 'CLIENT1:disconnected,CLIENT2:disconnected', 'both sessions listed, disconnected: ' + names);
    await page.evaluate(() => { window.__same_page = 1; });

    // log on: the sessions' state and sequence numbers follow
    await a.connect(); await b.connect();
    for (const c of [a, b]) { c.send('A', [[98, 0], [108, 30]]); await c.wait((m) => m['35'] === 'A'); }
    await page.waitForFunction(() => [...document.querySelectorAll('#accounts tbody tr')].every((r) => r.children[1].textContent === 'logged on'), null, { timeout: 5000 });
    const seqs = await page.$$eval('#accounts tbody tr', (t) => t.map((r) => r.children[2].textContent + '/' + r.children[3].textContent));
    check(seqs.every((s) => s === '2/2'), 'logged on, next sequence numbers in/out 2/2: ' + seqs);

    // a resting buy: open orders and the top of book
    a.order('buy-1', 1, 5, '10.00');
    await a.wait((m) => m['35'] === '8' && m['150'] === '0');
    await page.waitForSelector('#orders tbody tr[data-id]', { timeout: 5000 });
    const ord = await page.$eval('#orders tbody tr', (r) => [...r.children].map((c) => c.textContent));
    check(ord[0] === 'CLIENT1' && ord[1] === 'buy-1' && ord[4] === 'buy' && ord[5] === '10.00' && ord[7] === '5', 'the open order is listed: ' + ord);
    await page.waitForFunction(() => document.querySelector('#books tr[data-symbol="AAPL"] .bid').textContent === '10.00', null, { timeout: 5000 });
    const book = await page.$eval('#books tr[data-symbol="AAPL"]', (r) => [...r.children].map((c) => c.textContent));
    check(book[0] === 'sim' && book[2] === '5' && book[3] === '10.00' && book[4] === '—', 'top of book on venue sim: bid 5 @ 10.00, no ask: ' + book);
    check(await page.$('#positions tbody tr') === null, 'no position before the fill');
    await page.screenshot({ path: path.join(out, 'shots', 'live-resting.png'), fullPage: true });

    // the fill: a sell that takes the resting buy. Time from the fill report
    // reaching the client to the dashboard showing the position.
    const from = b.msgs.length;
    b.order('sell-1', 2, 5, '10.00');
    const fill = await b.wait((m) => m['35'] === '8' && m['150'] === 'F', from);
    await page.waitForFunction(() => {
      const p = document.querySelector('#positions tr[data-key="CLIENT1/AAPL"] .position');
      return p && p.textContent === '5';
    }, null, { timeout: 5000, polling: 'raf' }).catch(() => null);
    const shown = Date.now();
    const lag = shown - fill.at;
    check(lag < 1000, `the position change shows ${lag} ms after the fill (under 1000)`);
    const pos = await page.$$eval('#positions tbody tr', (t) => t.map((r) => r.dataset.key + '=' + r.children[2].textContent));
    check(pos.includes('CLIENT1/AAPL=5') && pos.includes('CLIENT2/AAPL=-5'), 'positions +5 and -5: ' + pos);
    check(await page.$('#orders tbody tr[data-id]') === null, 'the filled order left the open orders');
    // each fill with its ClOrdID and the venue it filled on (named when the snapshot is published)
    const tape = await page.$$eval('#fills tbody tr', (t) => t.map((r) => r.children[1].textContent + ' ' + r.children[3].textContent + ' ' + r.children[4].textContent + '@' + r.children[5].textContent + ' ' + r.children[6].textContent + ' ' + r.children[7].textContent));
    check(tape.length === 2 && tape.includes('CLIENT1 buy 5@10.00 buy-1 sim') && tape.includes('CLIENT2 sell 5@10.00 sell-1 sim'), 'the fills tape: ' + tape);
    await page.screenshot({ path: path.join(out, 'shots', 'live-fill.png'), fullPage: true });

    // a second trade at 10.50 marks the positions: CLIENT1 long 10 at 10.25
    a.order('buy-2', 1, 5, '10.50');
    await a.wait((m) => m['35'] === '8' && m['150'] === '0' && m['11'] === 'buy-2');
    b.order('sell-2', 2, 5, '10.50');
    await page.waitForFunction(() => {
      const p = document.querySelector('#positions tr[data-key="CLIENT1/AAPL"] .position');
      return p && p.textContent === '10';
    }, null, { timeout: 5000 });
    const row = await page.$eval('#positions tr[data-key="CLIENT1/AAPL"]', (r) => [...r.children].map((c) => c.textContent));
    check(row[3] === '10.2500' && row[4] === '0.00' && row[5] === '2.50' && row[6] === '2', 'CLIENT1: 10 at 10.25, realized 0, unrealized 2.50: ' + row);
    const pnl = await page.$$eval('#accounts tbody tr', (t) => t.map((r) => r.dataset.name + '=' + r.children[4].textContent));
    check(pnl.join() === 'CLIENT1=2.50,CLIENT2=-2.50', 'PnL per session: ' + pnl);
    await page.waitForFunction(() => document.querySelector('#pnl canvas') && document.querySelector('#pnl').dataset.series === '2', null, { timeout: 5000 });
    check(true, 'the PnL chart has a series per session');
    const lat = await page.$$eval('#latency tbody tr', (t) => t.map((r) => r.children[0].textContent + ':' + r.children[1].textContent + ':' + r.children[2].textContent));
    check(lat.length === 2 && lat[0].startsWith('order to acknowledgement:4:') && /µs|ms/.test(lat[0]) && lat[1].startsWith('order to fill:4:'), 'latency percentiles: ' + lat);
    check(await page.evaluate(() => window.__same_page === 1) && loads === 1, 'no page reload (loads: ' + loads + ')');
    await page.screenshot({ path: path.join(out, 'shots', 'live-pnl.png'), fullPage: true });

    // another origin and another host are refused; a third stream is refused
    const evil = await get('/live/events', { Origin: 'http://evil.example' });
    check(evil.status === 403, 'a stream asked from another origin: ' + evil.status);
    const rebind = await get('/live', { Host: 'evil.example:80' });
    check(rebind.status === 403, 'a page asked under another host name: ' + rebind.status);
    const second = await get('/live/events', {});
    check(second.status === 200 && second.type.startsWith('text/event-stream'), 'a second stream: ' + second.status + ' ' + second.type);
    const third = await get('/live/events', {});
    check(third.status === 503, 'a third stream over max_dashboard_clients 2: ' + third.status);
    if (second.res) second.res.destroy();
    check(errors.length === 0, 'no page errors: ' + JSON.stringify(errors));
  } catch (e) {
    failures++;
    console.log('FAIL: ' + (e.stack || e));
  } finally {
    for (const c of [a, b]) if (c.sock) c.sock.destroy();
    await browser.close();
  }
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
})();
