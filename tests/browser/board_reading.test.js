/*
 * board_reading.test.js - the board reads two pages the machine could not register, in a
 * real browser (Debian's chromium driven by playwright-core, nothing downloaded): the
 * screen first says to scan the sheet again; a supervisor reads page b with the keyboard,
 * a second one with the mouse without seeing the first's entry, and it counts; on page c
 * they differ and the head, who had not read it, sees the differing row and decides.
 * Screenshots go to SHOTS_DIR for people to look at.
 *
 * Run by tests/e2e/browser_board_reading.sh, which makes the session and starts
 * `phieu review`. Environment: REVIEW_URL, SHOTS_DIR, CHROMIUM, EXC_B and EXC_C (the page
 * exceptions), USER1/PASS1, USER2/PASS2 (supervisors), HEAD/HEAD_PASS (the head).
 */
'use strict';

const assert = require('node:assert/strict');
const { URL, until, shooter, login, withTwoBrowsers } = require('./support.js');

const shot = shooter('', true);

/* The value entered in each row of the reading table ('' when none). */
async function rowValues(page) {
  return page.$$eval('#board-rows tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-value')));
}

async function pageImageLoaded(page) {
  await until(page, () => {
    const i = document.querySelector('#page-image');
    return i && i.complete && i.naturalWidth > 0;
  });
}

/* Opens the reading screen of an exception and passes the "scan again" advice. */
async function openReading(page, exc) {
  await page.goto(URL + '/#/board-read/' + exc);
  await page.waitForSelector('#rescan');
  assert.match(await page.textContent('#rescan'), /Quét lại tờ này/);
  await page.locator('body').press('Enter');
  await page.waitForSelector('#board-rows');
}

async function typeRows(page, keys) {
  for (const k of keys) await page.locator('body').press(k);
}

async function saveAndWait(page) {
  const before = page.url();
  await page.locator('body').press('Enter');
  await until(page, (u) => location.href !== u, before);
  await page.waitForSelector('#counts');
}

/* What the API tells this user about the other readers' entries (it must tell nothing). */
async function apiView(page, exc) {
  return page.evaluate(async (id) => {
    const r = await fetch('/api/exception/' + id + '/board-read', { credentials: 'same-origin' });
    return r.json();
  }, exc);
}

withTwoBrowsers('board reading', {}, {}, async (a, b) => {
  const B = process.env.EXC_B, C = process.env.EXC_C;
  /* Supervisor 1 opens page b from its exception: the link to the board's reading. */
  await login(a.page, process.env.USER1, process.env.PASS1);
  await a.page.goto(URL + '/#/exception/' + B);
  await a.page.waitForSelector('#board-read-link');
  await shot(a.page, 'exception-with-link');
  await a.page.locator('body').press('b');
  /* First the advice to scan the sheet again, naming where the paper is. */
  await a.page.waitForSelector('#rescan');
  assert.match(await a.page.textContent('#rescan'), /Quét lại tờ này/);
  assert.match(await a.page.textContent('#rescan'), /đợt 1, tờ 2/);
  assert.equal(await a.page.locator('#board-rows').count(), 0, 'the rows wait until a rescan was tried');
  await pageImageLoaded(a.page);
  await shot(a.page, 'rescan-first');
  await a.page.locator('body').press('Enter');
  await a.page.waitForSelector('#board-rows');
  /* Row by row with the keyboard: 1 high, 3 low, 2 trust, 0 no box marked. */
  assert.deepEqual(await rowValues(a.page), ['', '', '', '']);
  assert.ok(await a.page.locator('#board-save').isDisabled(), 'nothing to save before every row');
  await typeRows(a.page, ['1', '3', '2']);
  assert.ok(await a.page.locator('#board-save').isDisabled(), 'three rows of four cannot be saved');
  assert.match(await a.page.textContent('#board-missing'), /Còn 1 dòng/);
  /* A mistake corrected: up to row 3 and again. */
  await typeRows(a.page, ['ArrowUp', '2']);
  await typeRows(a.page, ['0']);
  assert.deepEqual(await rowValues(a.page), ['high', 'low', 'trust', 'blank']);
  await shot(a.page, 'read-by-keyboard');
  await saveAndWait(a.page);

  /* Supervisor 2 sees nothing of it: not on the screen, not through the API. */
  await login(b.page, process.env.USER2, process.env.PASS2);
  const seen = await apiView(b.page, B);
  assert.equal(seen.mine, null);
  assert.equal(seen.readings, null);
  assert.ok(!JSON.stringify(seen).includes('"high","low"'), 'the first entry is not sent');
  await openReading(b.page, B);
  assert.deepEqual(await rowValues(b.page), ['', '', '', '']);
  await pageImageLoaded(b.page);
  await shot(b.page, 'second-reader-blind');
  /* ... and reads it with the mouse, the same: the ballot counts. */
  for (const [row, value] of [[1, 'high'], [2, 'low'], [3, 'trust'], [4, 'blank']])
    await b.page.click('#board-rows tr[data-row="' + row + '"] button[data-value="' + value + '"]');
  await b.page.click('#board-save');
  await b.page.waitForSelector('#counts');

  /* Page c: they differ in row 4. */
  await openReading(a.page, C);
  await typeRows(a.page, ['3', '3', '1', '2']);
  await saveAndWait(a.page);
  await openReading(b.page, C);
  await typeRows(b.page, ['3', '3', '1', '1']);
  await saveAndWait(b.page);
  /* A supervisor cannot settle it. */
  await b.page.goto(URL + '/#/board-read/' + C);
  await b.page.waitForSelector('#board-state');
  assert.match(await b.page.textContent('#board-state'), /khác nhau/);
  assert.equal(await b.page.locator('#board-rows').count(), 0);

  /* The head, who has not read it, sees both readings with row 4 marked, and decides. */
  await a.page.click('#logout');
  await login(a.page, process.env.HEAD, process.env.HEAD_PASS);
  await a.page.goto(URL + '/#/board-read/' + C);
  await a.page.waitForSelector('#board-rows');
  const differ = await a.page.$$eval('#board-rows tbody tr.differ', (trs) => trs.map((tr) => tr.getAttribute('data-row')));
  assert.deepEqual(differ, ['4']);
  assert.match(await a.page.textContent('#board-rows thead'), /lan/);
  await pageImageLoaded(a.page);
  await shot(a.page, 'head-sees-difference');
  await typeRows(a.page, ['3', '3', '1', '2']);
  await saveAndWait(a.page);
  await a.page.goto(URL + '/#/board-read/' + C);
  await a.page.waitForSelector('#board-state');
  assert.match(await a.page.textContent('#board-state'), /Ban đọc phiếu/);
  await shot(a.page, 'counted-by-board');

  assert.deepEqual(a.outside.concat(b.outside), [], 'nothing is fetched from elsewhere');
  assert.deepEqual(a.errors.concat(b.errors), [], 'no script errors');
});
