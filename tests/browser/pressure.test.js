/*
 * pressure.test.js - the review screen under the pressure of a real evening (issue 14), in
 * a real browser (Debian's chromium driven by playwright-core), one check per behaviour:
 * a held key decides one case at most and undo takes it back; the server refuses a second
 * decision by the same member; messages never cover a button; the buttons, the page and the
 * row zoom fit 1366 x 768 and 1280 x 720; an upside-down sheet is shown upright; the queue
 * refreshes by itself and says when a member is done; the totals show invalid sheets of
 * unknown form; the head's override needs a confirmation and a note; twelve wrong logins
 * sent at once check five passwords. Screenshots go to SHOTS_DIR for people to look at.
 *
 * Run by tests/e2e/browser_review.sh on a session of its own: ballots 1 (fed upside down,
 * a faint mark in row 2) and 2 (faint marks in rows 3 and 5) and a ballot of another form.
 * Environment: REVIEW_URL, SHOTS_DIR, SERVER_LOG, CHROMIUM, USER1/PASS1, USER2/PASS2,
 * HEAD/HEAD_PASS, SPARE (a member's name the login test may lock).
 */
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const support = require('./support.js');

const { URL, until, caseReady, login, withTwoBrowsers } = support;
const shot = support.shooter('pressure-', false);

/* The key of the box the machine found faint: the choice a member agrees on. */
async function faintKey(page) {
  const choice = await page.getAttribute('.box.marginal', 'data-choice');
  return page.getAttribute('#choices button[data-choice="' + choice + '"]', 'data-key');
}

/* GET or POST on the API from the page, as the screen would; {status, body}. */
async function call(page, pathName, body) {
  return page.evaluate(async ({ p, b }) => {
    const me = await (await fetch('/api/me')).json();
    const opts = b ? { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: JSON.stringify(b) } : {};
    const r = await fetch(p, opts);
    return { status: r.status, body: await r.json() };
  }, { p: pathName, b: body || null });
}

async function counts(page) {
  return (await call(page, '/api/queue')).body.counts;
}

function overlaps(a, b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/* Every decision button, the page and the row zoom lie inside the viewport. */
async function fitsViewport(page, width, height) {
  const boxes = await page.evaluate(() => [...document.querySelectorAll('#choices button, .viewer, #row-zoom')]
    .map((e) => { const r = e.getBoundingClientRect(); return { id: e.id || e.className, x: r.x, y: r.y, width: r.width, height: r.height }; }));
  assert.ok(boxes.length >= 5, 'buttons, page and zoom found');
  for (const b of boxes) {
    assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= width + 0.5 && b.y + b.height <= height + 0.5,
      `${b.id} at ${JSON.stringify(b)} lies outside ${width} x ${height}`);
  }
  const scroll = await page.evaluate(() => document.documentElement.scrollHeight);
  assert.ok(scroll <= height + 1, `the page scrolls (${scroll} > ${height})`);
}

/* The page's own errors only: refused requests (409, 429) are what this test provokes. */
withTwoBrowsers('pressure', { width: 1366, height: 768, consoleErrors: false },
  { width: 1280, height: 720, consoleErrors: false }, async (a, b) => {
  /* Supervisor 1 at 1366 x 768: the first case is the upside-down ballot's faint row. */
  await login(a.page, process.env.USER1, process.env.PASS1);
  assert.equal((await counts(a.page)).todo, 4);
  await a.page.click('#start');
  await caseReady(a.page);

  /* Upright display: the page and the row zoom are turned, the words say so. */
  assert.match(await a.page.textContent('#upside-down'), /xoay lại cho đúng chiều/);
  const turned = await a.page.evaluate(() => [document.querySelector('.viewer .page-wrap'), document.querySelector('.zoom')]
    .map((e) => getComputedStyle(e).transform));
  assert.deepEqual(turned, ['matrix(-1, 0, 0, -1, 0, 0)', 'matrix(-1, 0, 0, -1, 0, 0)'], 'page and zoom turned upright');
  /* The outline still frames row 2 on the turned page: its top lies in the upper half. */
  const outline = await a.page.evaluate(() => {
    const o = document.querySelector('.outline').getBoundingClientRect();
    const v = document.querySelector('.viewer').getBoundingClientRect();
    return (o.y - v.y) / v.height;
  });
  assert.ok(outline > 0.1 && outline < 0.4, 'row 2 framed near the top of the upright page: ' + outline);
  await shot(a.page, 'upright-1366');

  /* The buttons are visible at 1366 x 768, with the page and the row zoom. */
  await fitsViewport(a.page, 1366, 768);

  /* Zoom and contrast: + enlarges the page, the slider darkens faint pencil. */
  await a.page.click('#zoom-in');
  await a.page.click('#zoom-in');
  assert.equal(await a.page.textContent('#zoom-level'), '156%');
  await a.page.evaluate(() => { const r = document.querySelector('#contrast'); r.value = '2'; r.dispatchEvent(new Event('input')); });
  assert.equal(await a.page.evaluate(() => document.querySelector('#page-image').style.filter), 'url("#ink-filter")');
  assert.equal(await a.page.getAttribute('#ink-filter feFuncG', 'exponent'), '2');
  await shot(a.page, 'zoomed-contrast');
  await a.page.click('#zoom-fit');

  /* A held key decides one case at most: the first press decides, the repeats do not
   * reach the next case (whose pictures are not even loaded). */
  const first = a.page.url();
  const key = await faintKey(a.page);
  await a.page.keyboard.down(key);
  for (let i = 0; i < 15; i++) await a.page.keyboard.down(key); /* repeats: event.repeat */
  await a.page.keyboard.up(key);
  await until(a.page, (u) => location.href !== u, first);
  await caseReady(a.page);
  let c = await counts(a.page);
  assert.equal(c.second, 1, 'the held key decided one case');
  assert.equal(c.todo, 3);

  /* Four quick presses decide one case: the next case is not ready yet. */
  const secondUrl = a.page.url();
  const key2 = await faintKey(a.page);
  for (let i = 0; i < 4; i++) await a.page.keyboard.press(key2);
  await until(a.page, (u) => location.href !== u, secondUrl);
  await new Promise((r) => setTimeout(r, 800));
  c = await counts(a.page);
  assert.equal(c.second, 2, 'four quick presses decided one case');

  /* The message sits in the top bar and covers no button. */
  await caseReady(a.page);
  assert.match(await a.page.textContent('#toast'), /Đã ghi: Lô 1, tờ thứ 2, dòng 3/);
  const toastBox = await a.page.locator('#toast').boundingBox();
  for (const btn of await a.page.locator('#choices button').all()) {
    assert.ok(!overlaps(toastBox, await btn.boundingBox()), 'the message covers a button');
  }
  await shot(a.page, 'message-and-undo');

  /* Undo ("Hoàn tác") takes the last decision back and shows its case again. */
  assert.equal(await a.page.textContent('#undo'), 'Hoàn tác');
  await a.page.click('#undo');
  await until(a.page, (u) => location.href === u, secondUrl);
  await caseReady(a.page);
  c = await counts(a.page);
  assert.equal(c.second, 1, 'undo took the decision back');
  assert.equal(c.todo, 3);
  assert.match(await a.page.textContent('#toast'), /Đã hoàn tác/);
  await shot(a.page, 'undone');
  /* Decided again; then the third case and the page of another form (K). */
  for (let n = 0; n < 2; n++) {
    const u = a.page.url();
    await a.page.keyboard.press(await faintKey(a.page));
    await until(a.page, (x) => location.href !== x, u);
    await caseReady(a.page);
  }
  assert.match(await a.page.textContent('#reason-title'), /Sai mẫu phiếu/);
  const pageCase = await a.page.getAttribute('#decide-panel', 'data-id');
  await a.page.keyboard.press('k');
  await a.page.waitForSelector('#counts');

  /* The server refuses the same member deciding again: 409, the reason in Vietnamese. */
  const again = await call(a.page, '/api/exception/' + pageCase + '/decide', { choice: 'invalid', note: '' });
  assert.equal(again.status, 409);
  assert.match(again.body.message, /Bạn đã quyết định trường hợp này rồi/);
  assert.equal((await counts(a.page)).second, 4);

  /* Done: the queue says so, and refreshes by itself as supervisor 2 decides. */
  await until(a.page, () => /Bạn đã xem xong; còn 4 trường hợp chờ người khác/.test(document.querySelector('#done-message')?.textContent || ''));
  await shot(a.page, 'queue-done-waiting');

  /* Supervisor 2 at 1280 x 720: the buttons are visible there too. */
  await login(b.page, process.env.USER2, process.env.PASS2);
  await b.page.click('#start');
  await caseReady(b.page);
  await fitsViewport(b.page, 1280, 720);
  await shot(b.page, 'case-1280');
  const before = Number(await a.page.textContent('#count-decided b'));
  let u = b.page.url();
  await b.page.keyboard.press(await faintKey(b.page));
  await until(b.page, (x) => location.href !== x, u);
  /* Supervisor 1's queue follows without a reload. */
  await until(a.page, (n) => Number(document.querySelector('#count-decided b').textContent) === n + 1, before);
  await shot(a.page, 'queue-refreshed');
  for (let n = 0; n < 2; n++) {
    await caseReady(b.page);
    u = b.page.url();
    await b.page.keyboard.press(await faintKey(b.page));
    await until(b.page, (x) => location.href !== x, u);
  }
  await caseReady(b.page);
  await b.page.keyboard.press('K');
  await b.page.waitForSelector('#counts');
  await until(a.page, () => /Mọi trường hợp đã xong/.test(document.querySelector('#done-message')?.textContent || ''));

  /* The totals count the sheet of unknown form decided invalid: with one form in the
   * session it is that form's invalid sheet, and scanned = valid + invalid + pending. */
  await b.page.click('#nav-totals');
  await b.page.waitForSelector('.card .fact-invalid');
  const totals = (await call(b.page, '/api/totals')).body;
  assert.equal(totals.unknown_form_invalid, 0);
  const tf = totals.forms[0];
  assert.ok(tf.invalid_ballots >= 1, 'the unknown-form sheet decided invalid counts in the form');
  assert.equal(tf.ballots, tf.valid_ballots + tf.invalid_ballots + tf.pending_ballots);
  assert.equal(Number(await b.page.textContent('.card .fact-invalid')), tf.invalid_ballots);
  assert.equal(Number(await b.page.textContent('.card .fact-valid')), tf.valid_ballots);
  assert.match(await b.page.textContent('table.totals'), /Lê Thị Thu Hà/);
  assert.match(await b.page.textContent('.card h2'), /Phiếu tín nhiệm HĐND huyện/);
  await shot(b.page, 'totals-unknown-invalid');

  /* The head's override needs a confirmation and a note. */
  await a.page.click('#logout');
  await login(a.page, process.env.HEAD, process.env.HEAD_PASS);
  await a.page.goto(URL + '/#/exception/' + pageCase);
  await caseReady(a.page);
  assert.match(await a.page.textContent('#override-note'), /Trưởng ban: cần xác nhận và ghi lý do/);
  await a.page.click('#choices button[data-choice="discard"]');
  await a.page.waitForSelector('#override-confirm:not([hidden])');
  await shot(a.page, 'override-confirm');
  await a.page.click('#override-yes'); /* without a note */
  assert.match(await a.page.textContent('#override-error'), /Hãy ghi lý do/);
  let e = (await call(a.page, '/api/exception/' + pageCase)).body;
  assert.equal(e.resolution, 'invalid', 'nothing changed without a note');
  /* The server asks for them too, whatever the screen does. */
  const bare = await call(a.page, '/api/exception/' + pageCase + '/decide', { choice: 'discard', note: 'x' });
  assert.equal(bare.status, 409);
  assert.equal(bare.body.error, 'override-confirm');
  await a.page.fill('#note', 'Tờ này là phiếu mẫu in thử, không phải phiếu của đại biểu');
  const u2 = a.page.url();
  await a.page.click('#override-yes');
  await until(a.page, (x) => location.href !== x, u2);
  e = (await call(a.page, '/api/exception/' + pageCase)).body;
  assert.equal(e.resolution, 'discard');
  assert.ok(e.decisions.some((d) => d.role === 'head' && /phiếu mẫu in thử/.test(d.note)));

  /* Twelve wrong logins sent at once: five passwords checked, the rest refused. */
  const statuses = await b.page.evaluate(async (user) => Promise.all(Array.from({ length: 12 }, () =>
    fetch('/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password: 'sai-mat-khau' }) })
      .then((r) => r.status))), process.env.SPARE);
  assert.equal(statuses.filter((s) => s === 401 || s === 429).length, 12, 'every try answered: ' + statuses);
  assert.ok(statuses.filter((s) => s === 401).length <= 5, 'at most five refused as wrong: ' + statuses);
  if (process.env.SERVER_LOG) {
    await new Promise((r) => setTimeout(r, 300));
    const checked = fs.readFileSync(process.env.SERVER_LOG, 'utf8').split('\n')
      .filter((l) => l.includes("failed login for '" + process.env.SPARE + "'")).length;
    assert.equal(checked, 5, 'five passwords checked');
  }

  assert.deepEqual(a.errors.concat(b.errors), [], 'no script errors');
});
