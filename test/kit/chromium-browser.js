#!/usr/bin/env node
// A stand-in for a person at a browser, usable as `$BROWSER` by the CLI (which runs `$BROWSER <url>` and does
// not wait): Debian's /usr/bin/chromium, headless, driven by playwright-core. It opens the URL, signs in on
// whichever login page shows up (oidc-provider's development login + consent pages, or the oauth2-proxy
// look-alike's e-mail form) and waits until a condition holds. Only loopback requests are let through.
//
// Environment:
//   CHROMIUM_BROWSER_WAIT_FOR     handoff (default): a page on 127.0.0.1:<local_port> (from the URL's local_port
//                                 query) was reached, i.e. the CLI's loopback listener answered;
//                                 the /token page's fetch hand-off (relay login offered) reporting success
//                                 (#handoff-done shown) counts too;
//                                 token-page: the /token page's #bundle is shown;
//                                 relay: on the /token page's relay box, types CHROMIUM_BROWSER_CODE into the
//                                 code field (#relay-code-input), clicks #relay-confirm and waits for the
//                                 confirmation page (#relay-confirmed);
//                                 url:<regex>: the page URL matches <regex>.
//   CHROMIUM_BROWSER_OUT          with token-page: write the bundle text to this file (for paste tests).
//   CHROMIUM_BROWSER_CODE         with relay: the confirmation code the terminal shows, which the person types.
//   CHROMIUM_BROWSER_LOGIN        login name (default alice); the look-alike gets <login>@example.com.
//   CHROMIUM_BROWSER_SCREENSHOT   on failure, save a PNG screenshot here.
//   CHROMIUM_BROWSER_LOG          append progress lines to this file (CHROMIUM_BROWSER_VERBOSE=1: to stderr).
//   CHROMIUM_BROWSER_TIMEOUT_MS   overall deadline (default 60000).
//   CHROMIUM_BROWSER_EXECUTABLE   browser binary (default /usr/bin/chromium). Never downloads a browser.
// Exit code 0 on success; 1 with a message on stderr on failure; 2 on bad usage. The browser is always closed.
'use strict';
/* global window, document, location */

const fs = require('node:fs');
const { chromium } = require('playwright-core');

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * CHROMIUM_ARGS plus, when `trustCertFiles` (or CHROMIUM_BROWSER_TRUST_CERTS, a ':'-separated list of PEM server
 * certificates) names any, `--ignore-certificate-errors-spki-list` with their public keys: Chromium then accepts
 * those servers' certificates (made by the test's private CA) as a browser whose owner installed the CA would.
 */
function chromiumArgs(env = process.env, trustCertFiles = undefined) {
  const files = trustCertFiles ?? (env.CHROMIUM_BROWSER_TRUST_CERTS || '').split(':').filter(Boolean);
  if (files.length === 0) return CHROMIUM_ARGS;
  const { X509Certificate, createHash } = require('node:crypto');
  const pins = files.map((file) =>
    createHash('sha256')
      .update(new X509Certificate(fs.readFileSync(file)).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64'),
  );
  return [...CHROMIUM_ARGS, `--ignore-certificate-errors-spki-list=${pins.join(',')}`];
}
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function readConfig(argv, env) {
  const url = argv.filter((arg) => !arg.startsWith('--')).pop();
  if (url === undefined) throw new UsageError('usage: chromium-browser.js <url>');
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`not a URL: ${url}`);
  }
  const waitFor = env.CHROMIUM_BROWSER_WAIT_FOR || 'handoff';
  let condition;
  if (waitFor === 'handoff') {
    const localPort = parsed.searchParams.get('local_port');
    if (localPort === null || !/^\d+$/.test(localPort)) {
      throw new UsageError(`CHROMIUM_BROWSER_WAIT_FOR=handoff needs a local_port query in ${url}`);
    }
    condition = { kind: 'handoff', localPort };
  } else if (waitFor === 'token-page') {
    condition = { kind: 'token-page' };
  } else if (waitFor === 'relay') {
    if (!env.CHROMIUM_BROWSER_CODE)
      throw new UsageError('CHROMIUM_BROWSER_WAIT_FOR=relay needs CHROMIUM_BROWSER_CODE');
    condition = { kind: 'relay', code: env.CHROMIUM_BROWSER_CODE };
  } else if (waitFor.startsWith('url:')) {
    condition = { kind: 'url', pattern: new RegExp(waitFor.slice('url:'.length)) };
  } else {
    throw new UsageError(
      `CHROMIUM_BROWSER_WAIT_FOR must be handoff, token-page, relay or url:<regex>, not ${waitFor}`,
    );
  }
  const timeoutMs = Number(env.CHROMIUM_BROWSER_TIMEOUT_MS || 60_000);
  const login = env.CHROMIUM_BROWSER_LOGIN || 'alice';
  return {
    url,
    condition,
    login,
    email: login.includes('@') ? login : `${login}@example.com`,
    out: env.CHROMIUM_BROWSER_OUT || undefined,
    screenshot: env.CHROMIUM_BROWSER_SCREENSHOT || undefined,
    logFile: env.CHROMIUM_BROWSER_LOG || undefined,
    verbose: env.CHROMIUM_BROWSER_VERBOSE === '1',
    timeoutMs: Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs : 60_000,
    executablePath: env.CHROMIUM_BROWSER_EXECUTABLE || '/usr/bin/chromium',
  };
}

class UsageError extends Error {}

function isLoopbackUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol === 'about:' || url.protocol === 'data:' || url.protocol === 'blob:') return true;
  return LOOPBACK_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

/** What the current document is; runs inside the page. */
function inspectDocument() {
  const w = window;
  if (!w.__cookieBridgeDocumentId) w.__cookieBridgeDocumentId = `${Date.now()}-${Math.random()}`;
  const q = (selector) => document.querySelector(selector);
  const shown = (element) => element !== null && element.closest('[hidden]') === null;
  let kind = 'other';
  if (shown(q('#relay-confirm'))) kind = 'relay-confirm';
  else if (q('input[name="prompt"][value="login"]') && q('input[name="login"]')) kind = 'oidc-login';
  else if (q('input[name="prompt"][value="consent"]')) kind = 'oidc-consent';
  else if (q('form[action$="/oauth2/callback"] input[name="email"]')) kind = 'lookalike-sign-in';
  const bundle = q('#bundle');
  return {
    documentId: w.__cookieBridgeDocumentId,
    kind,
    url: location.href,
    title: document.title,
    bundle: bundle === null ? null : 'value' in bundle ? bundle.value : bundle.textContent,
    handoffDone: shown(q('#handoff-done')),
    relayConfirmed: q('#relay-confirmed') !== null,
  };
}

function conditionHolds(condition, state) {
  const url = new URL(state.url);
  switch (condition.kind) {
    case 'handoff':
      return (
        (isLoopbackUrl(state.url) && url.port === condition.localPort && url.protocol === 'http:') ||
        state.handoffDone
      );
    case 'token-page':
      return state.bundle !== null && state.bundle.trim() !== '';
    case 'relay':
      return state.relayConfirmed;
    case 'url':
      return condition.pattern.test(state.url);
    default:
      return false;
  }
}

async function signIn(page, state, config, log) {
  switch (state.kind) {
    case 'oidc-login':
      log(`signing in as ${config.login} on the provider's login page`);
      await page.fill('input[name="login"]', config.login);
      await page.fill('input[name="password"]', 'any-password');
      await page.click('form:has(input[name="prompt"][value="login"]) [type="submit"]');
      return true;
    case 'oidc-consent':
      log("accepting the provider's consent page");
      await page.click('form:has(input[name="prompt"][value="consent"]) [type="submit"]');
      return true;
    case 'lookalike-sign-in':
      log(`signing in as ${config.email} on the auth proxy's sign-in form`);
      await page.fill('form[action$="/oauth2/callback"] input[name="email"]', config.email);
      await page.click('form[action$="/oauth2/callback"] [type="submit"]');
      return true;
    case 'relay-confirm': {
      // Only the relay mode confirms; the other modes leave a relay box alone, as a person who did not ask would.
      if (config.condition.kind !== 'relay') return false;
      log("typing the terminal's code and confirming the relay sign-in");
      await page.fill('#relay-code-input', config.condition.code);
      await page.click('#relay-confirm');
      return true;
    }
    default:
      return false;
  }
}

async function drive(page, config, log, history, deadline) {
  try {
    await page.goto(config.url, {
      waitUntil: 'domcontentloaded',
      timeout: Math.max(1, deadline - Date.now()),
    });
  } catch (error) {
    // A page that navigates on by itself (a redirect by script, an auto-submitted form) aborts goto's wait.
    log(`first navigation: ${firstLine(error)}`);
  }
  const actedOn = new Set();
  for (;;) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${config.timeoutMs} ms`);
    let state;
    try {
      state = await page.evaluate(inspectDocument);
    } catch (error) {
      // The document went away under us (navigation in progress): look again once it has loaded.
      log(`page busy: ${firstLine(error)}`);
      await page.waitForLoadState('domcontentloaded', { timeout: 1_000 }).catch(() => undefined);
      continue;
    }
    if (conditionHolds(config.condition, state)) return state;
    if (!actedOn.has(state.documentId) && state.kind !== 'other') {
      actedOn.add(state.documentId);
      await signIn(page, state, config, log);
      continue;
    }
    await page.waitForEvent('framenavigated', { timeout: 500 }).catch(() => undefined);
    await page.waitForLoadState('domcontentloaded', { timeout: 1_000 }).catch(() => undefined);
  }
}

function firstLine(error) {
  return String(error instanceof Error ? error.message : error).split('\n')[0];
}

async function main() {
  let config;
  try {
    config = readConfig(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`chromium-browser: ${firstLine(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
  const log = (line) => {
    const text = `[chromium-browser ${new Date().toISOString()}] ${line}\n`;
    if (config.verbose) process.stderr.write(text);
    if (config.logFile !== undefined) {
      try {
        fs.appendFileSync(config.logFile, text);
      } catch {
        // Logging is best effort.
      }
    }
  };
  const deadline = Date.now() + config.timeoutMs;
  const history = [];
  let browser;
  let page;
  // Last resort if closing the browser itself hangs: never outlive the deadline by much.
  const hardStop = setTimeout(() => {
    process.stderr.write(
      `chromium-browser: still running ${config.timeoutMs + 15_000} ms after start, exiting\n`,
    );
    process.exit(1);
  }, config.timeoutMs + 15_000);
  hardStop.unref();
  // Killed by the test (or the CLI): exit, which makes playwright kill the browser it launched.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => {
      process.stderr.write(`chromium-browser: got ${signal}, closing the browser\n`);
      process.exit(1);
    });
  }
  try {
    log(`launching ${config.executablePath} for ${config.url}`);
    browser = await chromium.launch({
      executablePath: config.executablePath,
      headless: true,
      args: chromiumArgs(process.env),
      timeout: Math.max(1, Math.min(30_000, deadline - Date.now())),
    });
    const context = await browser.newContext();
    await context.route('**/*', (route) => {
      const requestUrl = route.request().url();
      if (isLoopbackUrl(requestUrl)) return route.continue();
      log(`blocked ${requestUrl}`);
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    page.on('response', (response) => {
      if (response.request().isNavigationRequest() && response.frame() === page.mainFrame()) {
        const entry = `${response.status()} ${response.request().method()} ${response.url()}`;
        history.push(entry);
        log(entry);
      }
    });
    const state = await drive(page, config, log, history, deadline);
    if (config.condition.kind === 'token-page' && config.out !== undefined) {
      fs.writeFileSync(config.out, state.bundle.trim() + '\n', { mode: 0o600 });
      log(`wrote the bundle to ${config.out}`);
    }
    log(`done at ${state.url}`);
    return 0;
  } catch (error) {
    let where = '';
    if (page !== undefined) {
      const url = page.url();
      const text = await page
        .evaluate(() => (document.body ? document.body.innerText : ''))
        .catch(() => '(page text unavailable)');
      where = `\n  at ${url}\n  page text: ${text.replace(/\s+/g, ' ').trim().slice(0, 600)}`;
      if (config.screenshot !== undefined) {
        await page
          .screenshot({ path: config.screenshot, fullPage: true, timeout: 5_000 })
          .then(() => (where += `\n  screenshot: ${config.screenshot}`))
          .catch(() => undefined);
      }
    }
    const message =
      `chromium-browser: failed waiting for ${process.env.CHROMIUM_BROWSER_WAIT_FOR || 'handoff'}: ` +
      `${firstLine(error)}${where}\n  navigations:\n    ${history.slice(-15).join('\n    ') || '(none)'}\n`;
    log(message);
    process.stderr.write(message);
    return 1;
  } finally {
    if (browser !== undefined) await browser.close().catch(() => undefined);
  }
}

// Tests that drive Chromium themselves (test/kit/launch-chromium.ts) reuse its launch
// arguments and loopback rule; run as a program, it is the `$BROWSER` stand-in.
module.exports = { CHROMIUM_ARGS, chromiumArgs, isLoopbackUrl };

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`chromium-browser: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
