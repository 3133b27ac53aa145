/*
 * keyboard.test.js - a supervisor works through a long queue of faint marks with the
 * keyboard at 1366 x 768, pressing carelessly as people do late in the evening: a second
 * press right after the first, a key held down, a stray "0". Afterwards every case carries
 * exactly the decision meant for it (the box the machine found faint, read off the screen
 * before pressing), and no case was decided before it was on screen. Issue 14's "done
 * when". Screenshots of the first and last case go to SHOTS_DIR.
 *
 * Run by tests/e2e/browser_review.sh on a session of its own (CASES faint marks).
 * Environment: REVIEW_URL, SHOTS_DIR, CHROMIUM, USER1/PASS1, CASES.
 */
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { URL, SHOTS, until, caseReady, openBrowser, login } = require('./support.js');

const CASES = Number(process.env.CASES || 0);

async function main() {
  assert.ok(URL && SHOTS && CASES > 0, 'REVIEW_URL, SHOTS_DIR and CASES must be set');
  fs.mkdirSync(SHOTS, { recursive: true });
  const { context, page, dir, errors } = await openBrowser('k', { width: 1366, height: 768, consoleErrors: false });
  try {
    await login(page, process.env.USER1, process.env.PASS1);
    assert.equal(Number(await page.textContent('#count-todo b')), CASES);
    await page.keyboard.press('Enter'); /* start reviewing */

    const meant = new Map();
    for (let n = 0; n < CASES; n++) {
      await caseReady(page);
      const id = await page.getAttribute('#decide-panel', 'data-id');
      assert.ok(!meant.has(id), 'case ' + id + ' shown twice');
      /* Nothing decided this case before it was on screen. */
      assert.equal(await page.locator('#choices button.chosen').count(), 0, 'case ' + id + ' was decided unseen');
      const choice = await page.getAttribute('.box.marginal', 'data-choice');
      const key = await page.getAttribute('#choices button[data-choice="' + choice + '"]', 'data-key');
      meant.set(id, choice);
      if (n === 0) await page.screenshot({ path: path.join(SHOTS, 'keyboard-first.png') });
      /* The buttons stay in view all along. */
      const bottom = await page.evaluate(() => Math.max(...[...document.querySelectorAll('#choices button')].map((b) => b.getBoundingClientRect().bottom)));
      assert.ok(bottom <= 768, 'buttons below the fold: ' + bottom);
      const before = page.url();
      if (n % 5 === 1) { /* held down */
        for (let i = 0; i < 8; i++) await page.keyboard.down(key);
        await page.keyboard.up(key);
      } else if (n % 3 === 0) { /* pressed twice */
        await page.keyboard.press(key);
        await page.keyboard.press(key);
      } else if (n % 7 === 2) { /* then a stray key */
        await page.keyboard.press(key);
        await page.keyboard.press('0');
      } else {
        await page.keyboard.press(key);
      }
      await until(page, (u) => location.href !== u, before);
    }
    await page.waitForSelector('#done-message');
    await page.screenshot({ path: path.join(SHOTS, 'keyboard-done.png') });

    /* Every case carries the decision meant for it, once. */
    const q = await page.evaluate(async () => (await fetch('/api/queue')).json());
    assert.equal(q.counts.todo, 0);
    assert.equal(q.counts.second, CASES);
    for (const it of q.items) {
      assert.ok(meant.has(it.id), 'case ' + it.id + ' never shown');
      assert.equal(it.mine, meant.get(it.id), 'case ' + it.id + ' decided ' + it.mine + ', meant ' + meant.get(it.id));
    }
    assert.equal(meant.size, CASES);
    for (const id of [...meant.keys()].slice(0, 5)) {
      const e = await page.evaluate(async (x) => (await fetch('/api/exception/' + x)).json(), id);
      assert.equal(e.decisions.length, 1, 'one decision on case ' + id);
    }
    assert.deepEqual(errors, [], 'no script errors');
    console.log('browser keyboard: ' + CASES + ' cases, each decided once as meant');
  } finally {
    await context.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error('browser keyboard: FAILED: ' + (e && e.stack ? e.stack : e));
  process.exit(1);
});
