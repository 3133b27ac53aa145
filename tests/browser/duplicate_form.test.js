/*
 * duplicate_form.test.js - "count as form X" on a page that is a second scan of a ballot
 * already counted, in a real browser (Debian's chromium driven by playwright-core): the
 * server answers that a confirmation is needed, the screen shows its words (where the
 * earlier paper is) in a panel under the buttons; Esc cancels and nothing is recorded; by
 * keyboard (Tab, Enter) one supervisor confirms "they are two different ballots", a second
 * confirms with the mouse, and the case is settled.
 *
 * Run by tests/e2e/browser_duplicate_form.sh, which makes the session and starts `phieu
 * review`. Environment: REVIEW_URL, SHOTS_DIR, CHROMIUM, EXC (the page exception),
 * USER1/PASS1, USER2/PASS2 (supervisors).
 */
'use strict';

const assert = require('node:assert/strict');
const { URL, until, caseReady, shooter, login, withTwoBrowsers } = require('./support.js');

const shot = shooter('', true);
const EXC = process.env.EXC;

/* The case as the API shows it to this user. */
async function apiCase(page) {
  return page.evaluate(async (id) => {
    const r = await fetch('/api/exception/' + id, { credentials: 'same-origin' });
    return r.json();
  }, EXC);
}

async function openCase(page) {
  await page.goto(URL + '/#/exception/' + EXC);
  await caseReady(page);
  return page.getAttribute('#choices button[data-choice="form:district-rating"]', 'data-key');
}

async function panelShown(page) {
  await until(page, () => {
    const box = document.querySelector('#duplicate-confirm');
    return box && !box.hidden && document.querySelector('#duplicate-yes');
  });
}

/* Two supervisors' browsers; a refused decision's 409 is an expected console error. */
withTwoBrowsers('duplicate form', { consoleErrors: false }, { consoleErrors: false }, async (a, b) => {
  await login(a.page, process.env.USER1, process.env.PASS1);
  const key = await openCase(a.page);
  assert.ok(key, 'the page offers "count as form district-rating"');

  /* The key asks: the panel says where the earlier paper is and what to do. */
  await a.page.locator('body').press(key);
  await panelShown(a.page);
  const text = await a.page.textContent('#duplicate-confirm');
  assert.match(text, /Có thể là cùng một tờ phiếu được quét hai lần/);
  assert.match(text, /Lô 1, tờ thứ 1 \(độ giống \d,\d\d\)/);
  assert.match(text, /Không tính/);
  assert.equal(await a.page.textContent('#duplicate-yes'), 'Tính phiếu: đây là hai phiếu khác nhau');
  assert.equal(await a.page.evaluate(() => document.activeElement.id), 'duplicate-confirm');
  await shot(a.page, 'duplicate-asked');

  /* Esc cancels: still on the case, nothing recorded. */
  await a.page.keyboard.press('Escape');
  await until(a.page, () => document.querySelector('#duplicate-confirm').hidden);
  assert.equal(await a.page.evaluate(() => location.hash), '#/exception/' + EXC);
  let ex = await apiCase(a.page);
  assert.equal(ex.decide, 'ok');
  assert.equal(ex.state, 'open');

  /* Asked again; Tab reaches "count it", Enter confirms: recorded, the next case opens. */
  await a.page.locator('body').press(key);
  await panelShown(a.page);
  await a.page.keyboard.press('Tab');
  assert.equal(await a.page.evaluate(() => document.activeElement.id), 'duplicate-yes');
  await a.page.keyboard.press('Enter');
  await until(a.page, (id) => location.hash !== '#/exception/' + id, EXC);
  assert.match(await a.page.textContent('#toast-text'), /Đã ghi: Lô 2, tờ thứ 1/);
  ex = await apiCase(a.page);
  assert.equal(ex.state, 'second');

  /* The second supervisor is asked too, and confirms with the mouse. */
  await login(b.page, process.env.USER2, process.env.PASS2);
  await openCase(b.page);
  await b.page.click('#choices button[data-choice="form:district-rating"]');
  await panelShown(b.page);
  await shot(b.page, 'duplicate-asked-second');
  await b.page.click('#duplicate-yes');
  await until(b.page, (id) => location.hash !== '#/exception/' + id, EXC);
  ex = await apiCase(b.page);
  assert.equal(ex.state, 'resolved');
  assert.equal(ex.resolution, 'form:district-rating');
  assert.deepEqual(a.errors.concat(b.errors), []);
  assert.deepEqual(a.outside.concat(b.outside), []);
});
