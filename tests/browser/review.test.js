/*
 * review.test.js - two supervisors resolve marginal marks in the review screen with a real
 * browser (Debian's chromium driven by playwright-core, nothing downloaded): decisions with
 * the mouse and with the keyboard, a page of another form, a disagreement the head
 * settles, while the first one watches the totals change by themselves. Screenshots go to
 * SHOTS_DIR for people to look at.
 *
 * Run by tests/e2e/browser_review.sh, which makes the session and starts `phieu review`.
 * Environment: REVIEW_URL, SHOTS_DIR, CHROMIUM (default /usr/bin/chromium),
 * USER1/PASS1, USER2/PASS2 (two supervisors), HEAD/HEAD_PASS (the head of the board).
 */
'use strict';

const assert = require('node:assert/strict');
const { URL, until, caseReady, shooter, login, withTwoBrowsers } = require('./support.js');

const shot = shooter('', true);

async function countOf(page, id) {
  return Number(await page.textContent('#' + id + ' b'));
}

/* The choice the faint mark is in: the box the machine found marginal. */
async function marginalChoice(page) {
  await page.waitForSelector('.box.marginal');
  return page.getAttribute('.box.marginal', 'data-choice');
}

async function imagesLoaded(page) {
  await until(page, () => {
    const imgs = [...document.querySelectorAll('#page-image, #row-zoom')];
    return imgs.length === 2 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  });
  await caseReady(page);
}

async function pressKey(page, key) {
  await caseReady(page);
  await page.locator('body').press(key);
}

/* Decides the open exception with the mouse or the keyboard; returns what was chosen. */
async function decide(page, how) {
  await imagesLoaded(page);
  const choice = await marginalChoice(page);
  const button = page.locator('#choices button[data-choice="' + choice + '"]');
  const before = page.url();
  if (how === 'mouse') {
    await button.click();
  } else {
    const key = await button.getAttribute('data-key');
    await pressKey(page, key);
  }
  await until(page, (u) => location.href !== u, before);
  return choice;
}

async function totalFor(page, person, choice) {
  const cell = page.locator('table.totals tr[data-person="' + person + '"] td[data-choice="' + choice + '"]');
  return Number(await cell.getAttribute('data-count'));
}

withTwoBrowsers('review', {}, {}, async (a, b) => {
  /* The login screen, in Vietnamese; a wrong password is refused with words. */
  await a.page.goto(URL);
  await a.page.waitForSelector('#login-form');
  assert.match(await a.page.textContent('h1'), /Đăng nhập/);
  await shot(a.page, 'login');
  await a.page.fill('#login-user', process.env.USER1);
  await a.page.fill('#login-password', 'not-the-password');
  await a.page.click('#login-button');
  await until(a.page, () => document.querySelector('#login-error').textContent.length > 0);
  assert.match(await a.page.textContent('#login-error'), /Sai tên hoặc mật khẩu/);

  /* Supervisor 1: the queue: three faint marks, a second scan of one sheet and a page
   * of another form. */
  await login(a.page, process.env.USER1, process.env.PASS1);
  assert.equal(await countOf(a.page, 'count-todo'), 5);
  assert.equal(await a.page.locator('#queue tr.item').count(), 5);
  assert.match(await a.page.textContent('#queue'), /Lô 1, tờ thứ 1/);
  await until(a.page, () => [...document.querySelectorAll('td.thumb img')].every((i) => i.complete && i.naturalWidth > 0));
  await shot(a.page, 'queue');

  /* Opens the first case with the mouse and decides it with the mouse. */
  await a.page.click('#queue tr.item >> nth=0');
  await a.page.waitForSelector('#decide-panel');
  await imagesLoaded(a.page);
  assert.equal(await a.page.locator('.page-wrap .outline').count(), 1, 'the row is outlined on the page');
  assert.match(await a.page.textContent('#reason-title'), /Dấu mờ/);
  await shot(a.page, 'exception');
  const first = await decide(a.page, 'mouse');
  /* The next case opened by itself; decide it with the keyboard. */
  await a.page.waitForSelector('#decide-panel');
  await shot(a.page, 'next-exception');
  const second = await decide(a.page, 'keyboard');
  /* The third: supervisor 1 says "high" (key 1). */
  await a.page.waitForSelector('#decide-panel');
  await imagesLoaded(a.page);
  let before = a.page.url();
  await pressKey(a.page, '1');
  await until(a.page, (u) => location.href !== u, before);
  /* The second scan of a sheet, shown beside the first: not counted (key D). */
  await a.page.waitForSelector('#twin-image');
  await until(a.page, () => [...document.querySelectorAll('#page-image, #twin-image')].every((i) => i.complete && i.naturalWidth > 0));
  assert.match(await a.page.textContent('#reason-title'), /Có thể quét trùng/);
  await shot(a.page, 'rescan');
  before = a.page.url();
  await pressKey(a.page, 'd');
  await until(a.page, (u) => location.href !== u, before);
  /* The page of another form: whole ballot invalid (key K). */
  await a.page.waitForSelector('#decide-panel');
  await until(a.page, () => { const i = document.querySelector('#page-image'); return i && i.complete && i.naturalWidth > 0; });
  /* A foreign form code: invalid or not counted first; "count as the session's form"
   * (key 1) last and plainer, since the page is most likely another council's ballot. */
  assert.equal(await a.page.locator('#choices button').count(), 3, 'count as form, invalid or not counted');
  assert.match(await a.page.locator('#choices button').first().textContent(), /K\s*Cả phiếu không hợp lệ/);
  const countAs = a.page.locator('#choices button').last();
  assert.match(await countAs.textContent(), /1\s*Tính theo mẫu Phiếu tín nhiệm HĐND huyện/);
  assert.match(await countAs.getAttribute('class'), /secondary/);
  assert.equal(await a.page.locator('#row-zoom').count(), 0);
  await shot(a.page, 'page-exception');
  before = a.page.url();
  await pressKey(a.page, 'k');
  await until(a.page, (u) => location.href !== u, before);
  await a.page.waitForSelector('#counts');
  assert.equal(await countOf(a.page, 'count-todo'), 0, 'nothing left for supervisor 1');

  /* Supervisor 1 watches the totals. */
  await a.page.click('#nav-totals');
  await a.page.waitForSelector('table.totals');
  const person1 = 2; /* the first case: row 2 of ballot 1 */
  const total1 = await totalFor(a.page, person1, first);
  assert.match(await a.page.textContent('#provisional'), /TẠM TÍNH/);
  await shot(a.page, 'totals-before');

  /* Supervisor 2 does not see supervisor 1's decisions; agrees on the first two, not
   * on the third; agrees on the page. */
  await login(b.page, process.env.USER2, process.env.PASS2);
  assert.equal(await countOf(b.page, 'count-todo'), 5);
  await b.page.click('#start');
  await b.page.waitForSelector('#decide-panel');
  assert.equal(await b.page.locator('#decisions').count(), 0, 'the other decision is hidden');
  assert.equal(await decide(b.page, 'mouse'), first);
  await b.page.waitForSelector('#decide-panel');
  assert.equal(await decide(b.page, 'keyboard'), second);
  await b.page.waitForSelector('#decide-panel');
  await imagesLoaded(b.page);
  before = b.page.url();
  await pressKey(b.page, '0'); /* not valid for this person: differs */
  await until(b.page, (u) => location.href !== u, before);
  await b.page.waitForSelector('#twin-image');
  before = b.page.url();
  await pressKey(b.page, 'D');
  await until(b.page, (u) => location.href !== u, before);
  await b.page.waitForSelector('#decide-panel');
  before = b.page.url();
  await pressKey(b.page, 'K');
  await until(b.page, (u) => location.href !== u, before);

  /* Supervisor 1's totals change by themselves. */
  await until(a.page, ({ p, c, n }) => {
    const td = document.querySelector('table.totals tr[data-person="' + p + '"] td[data-choice="' + c + '"]');
    return td && Number(td.getAttribute('data-count')) === n;
  }, { p: person1, c: first, n: total1 + 1 });
  await shot(a.page, 'totals-after');

  /* Back in the queue: four cases finished, one waits for the head. */
  await b.page.waitForSelector('#counts');
  assert.equal(await countOf(b.page, 'count-decided'), 4);
  assert.equal(await countOf(b.page, 'count-head'), 1);
  await shot(b.page, 'queue-after');

  /* The English switch, on the case that waits for the head. */
  await b.page.click('#lang');
  await until(b.page, () => document.querySelector('#nav-queue').textContent === 'Queue');
  await b.page.click('#queue tr.item >> nth=0');
  await b.page.waitForSelector('#decide-panel');
  await imagesLoaded(b.page);
  assert.match(await b.page.textContent('#reason-title'), /Faint mark/);
  assert.match(await b.page.textContent('#state-banner'), /head of the board will decide/);
  await shot(b.page, 'exception-english');

  /* The head sees both decisions and settles it. */
  await a.page.click('#logout');
  await login(a.page, process.env.HEAD, process.env.HEAD_PASS);
  assert.equal(await countOf(a.page, 'count-todo'), 1);
  await a.page.click('#start');
  await a.page.waitForSelector('#decide-panel');
  await imagesLoaded(a.page);
  assert.equal(await a.page.locator('#decisions li').count(), 2);
  await shot(a.page, 'head-decides');
  before = a.page.url();
  await pressKey(a.page, '1');
  await until(a.page, (u) => location.href !== u, before);
  await a.page.waitForSelector('#counts');
  assert.equal(await countOf(a.page, 'count-decided'), 5);
  await shot(a.page, 'queue-done');

  assert.deepEqual(a.outside.concat(b.outside), [], 'nothing is fetched from elsewhere');
  assert.deepEqual(a.errors.concat(b.errors), [], 'no script errors');
});
