#!/usr/bin/env node
'use strict';
/**
 * A scripted stand-in for a browser, run by the CLI as `$BROWSER <url>` in tests. Node built-ins only.
 *
 * It opens <url> with its own in-memory cookie jar, following redirects (loopback hosts only), submits a
 * sign-in form it meets (a form with an `email` input, e.g. the oauth2-proxy look-alike's), and on the
 * /token page POSTs the hand-off form (`<form id="handoff" action="http://127.0.0.1:<port>/callback">`,
 * every hidden input) as application/x-www-form-urlencoded with an Origin header equal to the page's
 * origin, like a real browser's top-level form POST. Exit 0 on success; non-zero with a message on
 * stderr on failure.
 *
 * Environment:
 *   SCRIPTED_BROWSER_EMAIL    email typed into the sign-in form (default: the form's own value)
 *   SCRIPTED_BROWSER_MODE     `post` (default) or `print-bundle`: write the text of the element with
 *                             id "bundle" (a textarea) to SCRIPTED_BROWSER_OUT instead of POSTing
 *                             or `relay-confirm`: on a /token?relay=… page, type SCRIPTED_BROWSER_CODE into the
 *                             code field of #relay-confirm-form and submit it (same-origin POST with the
 *                             cookies), like a person typing the terminal's code and pressing Confirm
 *   SCRIPTED_BROWSER_CODE     the code to type (relay-confirm): the one the terminal shows
 *   SCRIPTED_BROWSER_OUT      output file for print-bundle
 *   SCRIPTED_BROWSER_VERBOSE  1: log each request to stderr (cookie values are never printed)
 *   SCRIPTED_BROWSER_LAUNCHES a file to which each run appends one line (its pid), so a test counts launches
 *   SCRIPTED_BROWSER_GATE     a file that must exist before the browser goes on (watched, not polled): a test
 *                             holds the sign-in until it is ready by creating it
 */

const http = require('node:http');
const fs = require('node:fs');
const { URLSearchParams } = require('node:url');

const MAX_NAVIGATIONS = 30;
const REQUEST_TIMEOUT_MS = 30_000;
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) cookie-bridge-scripted-browser/1.0';

class BrowserError extends Error {}

function verbose(message) {
  if (process.env.SCRIPTED_BROWSER_VERBOSE === '1') process.stderr.write(`scripted-browser: ${message}\n`);
}

function isLoopbackHost(hostname) {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

function checkUrl(url) {
  if (url.protocol !== 'http:')
    throw new BrowserError(`refusing ${url.protocol} URL ${url.origin}: only http on loopback`);
  if (!isLoopbackHost(url.hostname))
    throw new BrowserError(`refusing to visit ${url.origin}: not a loopback host`);
}

/** A tiny cookie jar: cookies are per host name (not port, as in browsers), matched by path prefix. */
class CookieJar {
  constructor() {
    this.cookies = new Map(); // key host|path|name → { name, value, path, host, expires }
  }

  store(url, setCookieHeaders) {
    for (const line of setCookieHeaders) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const cookie = {
        name: pair.slice(0, eq).trim(),
        value: pair.slice(eq + 1).trim(),
        path: defaultPath(url),
        host: url.hostname,
        expires: undefined,
      };
      for (const attribute of attributes) {
        const [rawKey, ...rest] = attribute.split('=');
        const key = rawKey.trim().toLowerCase();
        const value = rest.join('=').trim();
        if (key === 'path' && value.startsWith('/')) cookie.path = value;
        else if (key === 'max-age' && /^-?\d+$/.test(value))
          cookie.expires = Date.now() + Number(value) * 1000;
        else if (key === 'expires' && cookie.expires === undefined) {
          const time = Date.parse(value);
          if (!Number.isNaN(time)) cookie.expires = time;
        }
      }
      const key = `${cookie.host}|${cookie.path}|${cookie.name}`;
      if (cookie.expires !== undefined && cookie.expires <= Date.now()) this.cookies.delete(key);
      else this.cookies.set(key, cookie);
    }
  }

  header(url) {
    const now = Date.now();
    const matching = [...this.cookies.values()].filter(
      (c) =>
        c.host === url.hostname &&
        pathMatches(url.pathname, c.path) &&
        (c.expires === undefined || c.expires > now),
    );
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.length === 0 ? undefined : matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

function defaultPath(url) {
  const path = url.pathname;
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function pathMatches(requestPath, cookiePath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function request(url, { method = 'GET', headers = {}, body } = {}) {
  checkUrl(url);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode || 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer from ${url.origin} within ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
    req.on('error', (error) =>
      reject(new BrowserError(`${method} ${url.origin}${url.pathname}: ${error.message}`)),
    );
    req.end(body);
  });
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function unescapeHtml(text) {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, entity) => {
    if (entity[0] === '#') {
      const code =
        entity[1] === 'x' || entity[1] === 'X'
          ? parseInt(entity.slice(2), 16)
          : parseInt(entity.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : match;
    }
    const named = ENTITIES[entity.toLowerCase()];
    return named === undefined ? match : named;
  });
}

function parseAttributes(tag) {
  const attributes = {};
  const pattern = /([^\s=<>"'/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  const inner = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
  let match;
  while ((match = pattern.exec(inner)) !== null) {
    const value = match[2] ?? match[3] ?? match[4] ?? '';
    attributes[match[1].toLowerCase()] = unescapeHtml(value);
  }
  return attributes;
}

/** Every <form> with its attributes and its <input>s (name, type, value). */
function parseForms(html) {
  const forms = [];
  const formPattern = /<form\b[^>]*>([\s\S]*?)<\/form\s*>/gi;
  let match;
  while ((match = formPattern.exec(html)) !== null) {
    const openTag = match[0].match(/^<form\b[^>]*>/i)[0];
    const inputs = [];
    for (const inputTag of match[1].match(/<input\b[^>]*>/gi) || []) {
      const attributes = parseAttributes(inputTag);
      if (attributes.name === undefined) continue;
      inputs.push({
        name: attributes.name,
        type: (attributes.type || 'text').toLowerCase(),
        value: attributes.value ?? '',
      });
    }
    for (const textarea of match[1].matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea\s*>/gi)) {
      const attributes = parseAttributes(`<textarea${textarea[1]}>`);
      if (attributes.name !== undefined)
        inputs.push({ name: attributes.name, type: 'textarea', value: unescapeHtml(textarea[2]) });
    }
    forms.push({ attributes: parseAttributes(openTag), inputs });
  }
  return forms;
}

function elementTextById(html, id) {
  const pattern = new RegExp(
    `<([a-z][a-z0-9]*)\\b[^>]*\\bid\\s*=\\s*["']?${id}["']?[^>]*>([\\s\\S]*?)</\\1\\s*>`,
    'i',
  );
  const match = html.match(pattern);
  return match === null ? undefined : unescapeHtml(match[2]).trim();
}

function isHandoffForm(form, pageUrl) {
  if (form.attributes.id === 'handoff') return true;
  try {
    const action = new URL(form.attributes.action || '', pageUrl);
    return (
      action.origin !== pageUrl.origin &&
      isLoopbackHost(action.hostname) &&
      form.inputs.some((i) => i.name === 'bundle')
    );
  } catch {
    return false;
  }
}

function isSignInForm(form) {
  return form.inputs.some((input) => input.name === 'email' || input.type === 'email');
}

async function navigate(jar, startUrl, init = {}) {
  let url = startUrl;
  let { method = 'GET', body, headers: extraHeaders = {} } = init;
  for (let hop = 0; hop < MAX_NAVIGATIONS; hop++) {
    const headers = {
      accept: BROWSER_ACCEPT,
      'user-agent': USER_AGENT,
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      ...extraHeaders,
    };
    const cookie = jar.header(url);
    if (cookie !== undefined) headers.cookie = cookie;
    const response = await request(url, { method, headers, body });
    verbose(`${method} ${url.origin}${url.pathname} → ${response.status}`);
    jar.store(url, [].concat(response.headers['set-cookie'] || []));
    const location = response.headers.location;
    if (response.status >= 300 && response.status < 400 && location !== undefined) {
      url = new URL(location, url);
      if (response.status !== 307 && response.status !== 308) {
        method = 'GET';
        body = undefined;
        extraHeaders = {};
      }
      continue;
    }
    return { url, response };
  }
  throw new BrowserError(
    `more than ${MAX_NAVIGATIONS} redirects starting at ${startUrl.origin}${startUrl.pathname}`,
  );
}

function formBody(inputs) {
  const params = new URLSearchParams();
  for (const input of inputs) {
    if (['submit', 'button', 'image', 'reset', 'file'].includes(input.type)) continue;
    params.append(input.name, input.value);
  }
  return params.toString();
}

/** Resolves once `file` exists, watching its folder; rejects after REQUEST_TIMEOUT_MS. */
function fileExists(file) {
  const path = require('node:path');
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(path.dirname(file));
    const done = (error) => {
      clearTimeout(timer);
      watcher.close();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => done(new BrowserError(`${file} did not appear within ${REQUEST_TIMEOUT_MS} ms`)),
      REQUEST_TIMEOUT_MS,
    );
    watcher.on('change', () => {
      if (fs.existsSync(file)) done();
    });
    watcher.on('error', done);
    if (fs.existsSync(file)) done();
  });
}

async function main() {
  const target = process.argv[2];
  if (target === undefined) throw new BrowserError('usage: scripted-browser.js <url>');
  const mode = process.env.SCRIPTED_BROWSER_MODE || 'post';
  if (mode !== 'post' && mode !== 'print-bundle' && mode !== 'relay-confirm')
    throw new BrowserError(`unknown SCRIPTED_BROWSER_MODE ${mode}`);
  const launches = process.env.SCRIPTED_BROWSER_LAUNCHES;
  if (launches) fs.appendFileSync(launches, `${process.pid}\n`);
  const gate = process.env.SCRIPTED_BROWSER_GATE;
  if (gate) await fileExists(gate);
  const jar = new CookieJar();
  let page = await navigate(jar, new URL(target));

  for (let step = 0; step < 5; step++) {
    const { url, response } = page;
    if (response.status >= 400)
      throw new BrowserError(`${url.origin}${url.pathname} answered ${response.status}`);
    const forms = parseForms(response.text);
    if (mode === 'relay-confirm' && forms.some((f) => f.attributes.id === 'relay-confirm-form')) {
      return confirmRelay(jar, url, response.text, forms);
    }
    const handoff = forms.find((form) => isHandoffForm(form, url));
    if (handoff !== undefined || elementTextById(response.text, 'bundle') !== undefined) {
      return handOff(url, response.text, handoff, mode);
    }
    const signIn = forms.find(isSignInForm);
    if (signIn === undefined)
      throw new BrowserError(
        `no sign-in or hand-off form on ${url.origin}${url.pathname} (status ${response.status})`,
      );
    const email = process.env.SCRIPTED_BROWSER_EMAIL;
    const inputs = signIn.inputs.map((input) =>
      email !== undefined && (input.name === 'email' || input.type === 'email')
        ? { ...input, value: email }
        : input,
    );
    const action = new URL(signIn.attributes.action || url.href, url);
    const method = (signIn.attributes.method || 'GET').toUpperCase();
    if (method === 'POST') {
      page = await navigate(jar, action, {
        method: 'POST',
        body: formBody(inputs),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: url.origin,
          'sec-fetch-site': 'same-origin',
        },
      });
    } else {
      action.search = formBody(inputs);
      page = await navigate(jar, action);
    }
  }
  throw new BrowserError('gave up after 5 forms without reaching a hand-off form');
}

async function confirmRelay(jar, pageUrl, html, forms) {
  const code = process.env.SCRIPTED_BROWSER_CODE;
  if (code === undefined || code === '') throw new BrowserError('SCRIPTED_BROWSER_CODE is not set');
  const form = forms.find((f) => f.attributes.id === 'relay-confirm-form');
  if (form === undefined)
    throw new BrowserError(`no #relay-confirm-form on ${pageUrl.origin}${pageUrl.pathname}`);
  const action = new URL(form.attributes.action || pageUrl.href, pageUrl);
  if (action.origin !== pageUrl.origin) throw new BrowserError(`the confirm form posts to another origin`);
  const { url, response } = await navigate(jar, action, {
    method: 'POST',
    body: formBody(form.inputs.map((input) => (input.name === 'code' ? { ...input, value: code } : input))),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: pageUrl.origin,
      'sec-fetch-site': 'same-origin',
    },
  });
  verbose(`relay confirm → ${response.status}`);
  if (response.status !== 200 || elementTextById(response.text, 'relay-confirmed') === undefined) {
    const why =
      elementTextById(response.text, 'error') ?? elementTextById(response.text, 'relay-warning') ?? '';
    throw new BrowserError(
      `the relay confirm at ${url.origin}${url.pathname} answered ${response.status}: not confirmed ${why}`.trim(),
    );
  }
}

async function handOff(pageUrl, html, form, mode) {
  if (mode === 'print-bundle') {
    const out = process.env.SCRIPTED_BROWSER_OUT;
    if (out === undefined || out === '') throw new BrowserError('SCRIPTED_BROWSER_OUT is not set');
    const bundle =
      elementTextById(html, 'bundle') ?? form?.inputs.find((input) => input.name === 'bundle')?.value;
    if (bundle === undefined || bundle === '')
      throw new BrowserError(`no element with id "bundle" on ${pageUrl.origin}${pageUrl.pathname}`);
    fs.writeFileSync(out, `${bundle}\n`, { mode: 0o600 });
    verbose(`bundle written to ${out}`);
    return;
  }
  if (form === undefined) throw new BrowserError(`no hand-off form on ${pageUrl.origin}${pageUrl.pathname}`);
  const action = new URL(form.attributes.action || '', pageUrl);
  checkUrl(action);
  const body = formBody(form.inputs);
  const response = await request(action, {
    method: (form.attributes.method || 'POST').toUpperCase(),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(body)),
      origin: pageUrl.origin,
      accept: BROWSER_ACCEPT,
      'user-agent': USER_AGENT,
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document',
      'sec-fetch-site': 'cross-site',
    },
    body,
  });
  verbose(`POST ${action.origin}${action.pathname} → ${response.status}`);
  if (response.status >= 400) {
    throw new BrowserError(
      `the hand-off POST to ${action.origin}${action.pathname} answered ${response.status}: ${response.text.slice(0, 200)}`,
    );
  }
}

main().then(
  () => {
    process.exitCode = 0;
  },
  (error) => {
    process.stderr.write(
      `scripted-browser: ${error instanceof BrowserError ? error.message : error.stack || String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
