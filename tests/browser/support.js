/*
 * support.js - what every browser test of the review screen does the same way: start
 * Debian's chromium with a profile of its own (playwright-core, nothing downloaded), wait
 * for a condition in the page and for a case to be ready, take numbered screenshots, log
 * in, and run a test with two members' browsers that are closed whatever happens.
 * Environment: REVIEW_URL, SHOTS_DIR, CHROMIUM (default /usr/bin/chromium).
 */
'use strict';

const assert = require('node:assert/strict');
const { chromium } = require('playwright-core');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const URL = process.env.REVIEW_URL;
const SHOTS = process.env.SHOTS_DIR;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/* Generous: two cores shared by a whole build. */
const TIMEOUT_MS = 30000;

/* Waits until fn (run in the page) returns something true. Polls from here: the page's
 * Content-Security-Policy forbids the eval that page.waitForFunction would need. */
async function until(page, fn, arg) {
  const end = Date.now() + TIMEOUT_MS;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + fn.toString().slice(0, 160));
    await new Promise((r) => setTimeout(r, 50));
  }
}

/* shooter('prefix-', fullPage) gives shot(page, name), which writes SHOTS_DIR/prefixNN-name.png. */
function shooter(prefix, fullPage) {
  let step = 0;
  return async function shot(page, name) {
    step += 1;
    const file = path.join(SHOTS, prefix + String(step).padStart(2, '0') + '-' + name + '.png');
    await page.screenshot({ path: file, fullPage });
    console.log('screenshot ' + file);
  };
}

/* A browser of its own for each member: a fresh profile, its own cookies. `outside` lists
 * any request that left the review server; `errors` the page's errors and, with
 * consoleErrors, its console errors (a refused login's 401 aside). */
async function openBrowser(name, { width = 1400, height = 1000, consoleErrors = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phieu-chromium-' + name + '-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width, height }, locale: 'vi-VN',
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = context.pages()[0] || await context.newPage();
  const outside = [];
  page.on('request', (req) => {
    if (!req.url().startsWith(URL) && !req.url().startsWith('data:')) outside.push(req.url());
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  if (consoleErrors) {
    page.on('console', (m) => { if (m.type() === 'error' && !/401|Unauthorized/.test(m.text())) errors.push(m.text()); });
  }
  return { context, page, dir, outside, errors };
}

async function login(page, user, password) {
  await page.goto(URL);
  await page.waitForSelector('#login-form');
  await page.fill('#login-user', user);
  await page.fill('#login-password', password);
  await page.click('#login-button');
  await page.waitForSelector('#counts');
}

/* The case in the address bar is on screen and takes decisions (its pictures loaded, shown
 * long enough: keys pressed before that are ignored on purpose). */
async function caseReady(page) {
  await until(page, () => {
    const p = document.querySelector('#decide-panel');
    return p && p.dataset.ready === '1' && location.hash === '#/exception/' + p.dataset.id;
  });
}

/* Runs test(a, b) with two members' browsers (openBrowser's options optsA and optsB) once
 * REVIEW_URL and SHOTS_DIR are set; closes both and removes their profiles whatever
 * happens; says "browser TITLE: every check passed", or FAILED and exits 1. */
function withTwoBrowsers(title, optsA, optsB, test) {
  async function main() {
    assert.ok(URL && SHOTS, 'REVIEW_URL and SHOTS_DIR must be set');
    fs.mkdirSync(SHOTS, { recursive: true });
    const a = await openBrowser('a', optsA);
    const b = await openBrowser('b', optsB);
    try {
      await test(a, b);
      console.log('browser ' + title + ': every check passed');
    } finally {
      await a.context.close();
      await b.context.close();
      fs.rmSync(a.dir, { recursive: true, force: true });
      fs.rmSync(b.dir, { recursive: true, force: true });
    }
  }
  main().catch((e) => {
    console.error('browser ' + title + ': FAILED: ' + (e && e.stack ? e.stack : e));
    process.exit(1);
  });
}

module.exports = { URL, SHOTS, TIMEOUT_MS, until, caseReady, shooter, openBrowser, login,
  withTwoBrowsers };
