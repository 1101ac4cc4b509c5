// The management page in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser is downloaded), against a running lattice-web:
//   log in, create a store, put a key, see a write made with lattice-ctl appear live without
//   a reload, open a conflicted key's heads, invite a peer and copy the token, switch a
//   service's consent and see its instance start.
// Every step fails on a console error, an uncaught exception or a Content-Security-Policy
// violation, and leaves a screenshot.
//
// Run: node --test page_test.mjs (tests/integration/web_page_test.py sets all of this up).
// Environment:
//   LATTICE_WEB_URL        the page, e.g. http://127.0.0.1:8470/            (required)
//   LATTICE_WEB_TOKEN      a token to log in with: the node's admin cookie  (required)
//   LATTICE_WEB_ARTIFACTS  directory for the screenshots (default: a new temporary one)
//   LATTICE_WEB_STORE      name of the store the test creates (default: web-<time>)
//   LATTICE_CTL_WRITE      shell command that writes $KEY=$VALUE into store $STORE
//                          outside the browser, e.g. 'lattice-ctl kv put "$STORE" "$KEY" "$VALUE"'
//   LATTICE_WEB_CONFLICT_STORE, LATTICE_WEB_CONFLICT_KEY
//                          a key with concurrent heads (written on two nodes apart)
//   LATTICE_WEB_CHAT_STORE, LATTICE_WEB_CHAT_CHANNEL, LATTICE_WEB_CHAT_TEXT
//                          a chat store whose channel holds a message with that text
//   LATTICE_WEB_PEER       the name of this node, which the test renames (a node takes its
//                          name only from itself)
//   LATTICE_WEB_SERVICE    a service declared in the node's mesh whose consent is manual
//   LATTICE_WEB_SERVICE_CONSENT   the consent to switch it to (default follow-mesh)
//   CHROMIUM               the browser (default /usr/bin/chromium)
//   LATTICE_WEB_TIMEOUT_MS how long anything may take to show (default 30000)
// A step whose variables are missing is skipped, saying which.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const env = process.env;
const baseUrl = env.LATTICE_WEB_URL;
const token = env.LATTICE_WEB_TOKEN;
const timeout = Number(env.LATTICE_WEB_TIMEOUT_MS || 30000);
const artifacts = env.LATTICE_WEB_ARTIFACTS || mkdtempSync(path.join(tmpdir(), 'lattice-page-'));
const storeName = env.LATTICE_WEB_STORE || `web-${Date.now()}`;
mkdirSync(artifacts, { recursive: true });

// Polls `probe` until it returns a truthy value; fails naming `what` at the deadline.
async function eventually(probe, what, ms = timeout) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('management page', { timeout: 10 * timeout }, () => {
  let browser;
  let context;
  let page;
  const problems = [];  // console errors, uncaught exceptions, CSP violations
  let shot = 0;

  async function screenshot(name) {
    shot += 1;
    const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  function assertClean(step) {
    assert.deepEqual(problems, [], `${step}: the page reported problems`);
  }

  // Every step needs the page loaded and a session: when loading or logging in fails, the
  // rest fail at once naming it, instead of each waiting out its own timeout.
  let failedStep = null;
  function step(name, body, { needed = false } = {}) {
    it(name, async (t) => {
      if (failedStep) throw new Error(`not run: the step "${failedStep}" failed`);
      try {
        await body(t);
      } catch (error) {
        if (needed) failedStep = name;
        throw error;
      }
    });
  }

  const byTestId = (id, extra = '') => page.locator(`[data-testid="${id}"]${extra}`);

  async function textOf(locator) {
    return ((await locator.first().textContent({ timeout: 1000 })) || '').trim();
  }

  async function go(section) {
    await byTestId(`nav-${section}`).click();
    await page.waitForFunction((s) => window.location.hash === `#/${s}`, section, { timeout });
  }

  before(async () => {
    assert.ok(baseUrl, 'LATTICE_WEB_URL names the page to test');
    assert.ok(token, 'LATTICE_WEB_TOKEN holds a token to log in with');
    browser = await chromium.launch({
      executablePath: env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(baseUrl).origin });
    page = await context.newPage();
    page.setDefaultTimeout(timeout);
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
    // Chromium also logs violations to the console; the event says exactly what was refused.
    await page.exposeFunction('latticeReportViolation', (text) => problems.push(`CSP violation: ${text}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        window.latticeReportViolation(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`);
      });
    });
    console.log(`# screenshots in ${artifacts}`);
  });

  after(async () => {
    if (browser) await browser.close();
  });

  step('serves a strict Content-Security-Policy', async () => {
    const response = await page.goto(baseUrl);
    assert.equal(response.status(), 200);
    const csp = response.headers()['content-security-policy'] || '';
    for (const directive of ["script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]) {
      assert.ok(csp.includes(directive), `the page's CSP has ${directive}: ${csp}`);
    }
    assert.ok(!/unsafe-(inline|eval)/.test(csp), `the page's CSP allows nothing unsafe: ${csp}`);
    await byTestId('login-form').waitFor();
    await screenshot('login');
    assertClean('the login form');
  }, { needed: true });

  step('logs in with a token, which then lives only in an HttpOnly cookie', async () => {
    await byTestId('login-token').fill(token);
    await byTestId('login-submit').click();
    await eventually(async () => {
      if (await byTestId('login-error').count()) throw new Error(await textOf(byTestId('login-error')));
      return byTestId('top-node-name').count();
    }, 'the page after logging in');
    await byTestId('node-name').waitFor();
    await eventually(async () => (await textOf(byTestId('node-id'))).length === 64, 'the node id');
    await eventually(async () => (await textOf(byTestId('root-live'))) === 'live', 'the root store event stream');
    assert.ok(!page.url().includes(token), 'no token in the URL');
    const cookies = await page.evaluate(() => document.cookie);
    assert.ok(!cookies.includes(token), 'the token is not readable by scripts');
    await byTestId('peer-table').waitFor();
    await screenshot('overview');
    assertClean('logging in');
  }, { needed: true });

  step('creates a store and puts a key', async () => {
    await go('stores');
    await byTestId('store-create-name').fill(storeName);
    await byTestId('store-create-submit').click();
    await byTestId('store-view').waitFor();
    await eventually(async () => (await textOf(byTestId('store-type'))) === 'kv', 'the new store\'s view');
    await byTestId('put-key').fill('greeting');
    await byTestId('put-value').fill('hello from the page');
    await byTestId('put-submit').click();
    const row = byTestId('key-row', '[data-key="greeting"]');
    await eventually(async () => (await textOf(row.locator('[data-testid="key-value"]'))) === 'hello from the page',
      'the key put from the page in the key table');
    await screenshot('store-put');
    assertClean('creating a store and putting a key');
  });

  step('shows a write made with lattice-ctl live, without a reload', async (t) => {
    if (!env.LATTICE_CTL_WRITE) return t.skip('LATTICE_CTL_WRITE is not set');
    await eventually(async () => (await textOf(byTestId('live-state'))) === 'live', 'the store\'s event stream');
    // A reload would lose this mark.
    await page.evaluate(() => { window.latticeNoReload = true; });
    const value = `written outside the browser at ${Date.now()}`;
    await promisify(execFile)('/bin/sh', ['-c', env.LATTICE_CTL_WRITE], {
      env: { ...env, STORE: storeName, KEY: 'from-ctl', VALUE: value },
      timeout,
    });
    const row = byTestId('key-row', '[data-key="from-ctl"]');
    await eventually(async () => (await textOf(row.locator('[data-testid="key-value"]'))) === value,
      'the lattice-ctl write in the key table');
    await byTestId('change-event', '[data-key="from-ctl"]').waitFor();
    assert.equal(await page.evaluate(() => window.latticeNoReload), true, 'the page was not reloaded');
    await screenshot('live-write');
    assertClean('a live write');
  });

  step('opens the heads of a conflicted key', async (t) => {
    const store = env.LATTICE_WEB_CONFLICT_STORE;
    const key = env.LATTICE_WEB_CONFLICT_KEY;
    if (!store || !key) return t.skip('LATTICE_WEB_CONFLICT_STORE and LATTICE_WEB_CONFLICT_KEY are not set');
    await go('stores');
    await byTestId('store-row', `[data-store-name="${store}"]`).locator('[data-testid="store-open"]').click();
    await byTestId('store-view').waitFor();
    await byTestId('key-prefix').fill(key);
    await byTestId('key-search').click();
    const row = byTestId('key-row', `[data-key="${key}"]`);
    await row.locator('[data-testid="key-conflicted"]').waitFor();
    await row.locator('[data-testid="key-inspect"]').click();
    const panel = byTestId('heads-panel');
    await eventually(async () => (await textOf(panel.locator('[data-testid="heads-conflicted"]'))) === 'conflicted',
      'the heads panel to say the key is conflicted');
    const heads = await panel.locator('[data-testid="head-row"]').count();
    assert.ok(heads >= 2, `a conflicted key shows every head (saw ${heads})`);
    await screenshot('conflict-heads');
    assertClean('opening a conflicted key');
  });

  step('invites a peer and copies the token', async () => {
    await go('overview');
    await byTestId('peer-invite').click();
    const field = byTestId('invite-token');
    const invitation = await eventually(async () => field.inputValue({ timeout: 1000 }), 'an invitation token');
    assert.ok(invitation.length >= 16, `an invitation token: ${invitation}`);
    await byTestId('invite-copy').click();
    await eventually(async () => (await textOf(byTestId('invite-copy-state'))) === 'Copied', 'the copy to succeed');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, invitation, 'the clipboard holds the invitation token');
    await screenshot('invite');
    assertClean('inviting a peer');
  });

  step('reads a chat store\'s history and posts to it', async (t) => {
    const store = env.LATTICE_WEB_CHAT_STORE;
    const channel = env.LATTICE_WEB_CHAT_CHANNEL;
    const text = env.LATTICE_WEB_CHAT_TEXT;
    if (!store || !channel || !text) return t.skip('LATTICE_WEB_CHAT_STORE, _CHANNEL and _TEXT are not set');
    await go('stores');
    await byTestId('store-row', `[data-store-name="${store}"]`).locator('[data-testid="store-open"]').click();
    await byTestId('chat').waitFor();
    await byTestId('chat-channel-open').filter({ hasText: channel }).first().click();
    await byTestId('chat-message').filter({ hasText: text }).first().waitFor();
    const reply = `answered from the page at ${Date.now()}`;
    await byTestId('chat-post-text').fill(reply);
    await byTestId('chat-post').click();
    await byTestId('chat-message').filter({ hasText: reply }).first().waitFor();
    await screenshot('chat');
    assertClean('reading a chat store');
  });

  step('renames a peer', async (t) => {
    const peer = env.LATTICE_WEB_PEER;
    if (!peer) return t.skip('LATTICE_WEB_PEER is not set');
    await go('overview');
    const named = byTestId('peer-row').filter({ has: page.locator(`[data-testid="peer-name"]:text-is("${peer}")`) });
    // By node id from here on: the name gives way to the rename form.
    const nodeId = await named.first().getAttribute('data-node-id');
    const row = byTestId('peer-row', `[data-node-id="${nodeId}"]`);
    await row.locator('[data-testid="peer-rename"]').click();
    const renamed = `${peer}-renamed`;
    await row.locator('[data-testid="peer-rename-input"]').fill(renamed);
    await row.locator('[data-testid="peer-rename-save"]').click();
    await byTestId('peer-name').filter({ hasText: renamed }).first().waitFor();
    assertClean('renaming a peer');
  });

  step('switches a service\'s consent and sees its instance start', async (t) => {
    const service = env.LATTICE_WEB_SERVICE;
    if (!service) return t.skip('LATTICE_WEB_SERVICE is not set');
    const consent = env.LATTICE_WEB_SERVICE_CONSENT || 'follow-mesh';
    await go('services');
    const select = byTestId('consent-select', `[data-service="${service}"]`).first();
    await select.waitFor();
    await page.evaluate(() => { window.latticeNoReload = true; });
    await select.selectOption(consent);
    const status = byTestId('instance-row', `[data-service="${service}"]`).locator('[data-testid="instance-status"]');
    await eventually(async () => (await textOf(status)) === 'running', `${service}'s instance to run`);
    const endpoints = await textOf(byTestId('instance-row', `[data-service="${service}"]`).locator('[data-testid="instance-endpoints"]'));
    assert.equal(await page.evaluate(() => window.latticeNoReload), true, 'the page was not reloaded');
    assert.ok(endpoints.includes('tcp://'), `the running instance's endpoints are shown: ${endpoints}`);
    await screenshot('service-running');
    assertClean('switching consent');
  });
});
