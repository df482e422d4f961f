/**
 * Issue 8 item 4: a script of the app behind the same auth proxy must not read the sign-in out of /token (nor
 * hand it to an attacker through a relay confirm), and the bundle carries only the auth proxy's session cookies.
 *
 * Real parts only: headless Chromium (its fetch metadata, framing and opener rules) signs in through real
 * nginx auth_request + the oauth2-proxy look-alike (the docs/serve.md recipe) in front of createServeApp in
 * front of an app whose page plays the XSS. The app's own request log shows /token never reached it, and
 * serve's log shows the refusals.
 */
import type { Page } from 'playwright-core';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';
import { relayChallengeFor } from '../../src/protocol/relay-protocol';
import { rawRequest } from '../kit/hostile-kit';
import { requestLines } from '../kit/recording-app';
import {
  launchChromium,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_SETUP_TIMEOUT_MS,
  signInAtLookalike,
  startServeBehindNginx,
  type LaunchedChromium,
  type ServeBehindNginx,
} from '../kit/real-components';

const describeReal = realComponentsAvailable() ? describe : describe.skip;

/** The injected script: reads /token with fetch and in a frame, and records what it could see. */
const XSS_PAGE = `<!doctype html><html><head><title>app</title></head><body><p>an app page with an XSS</p>
<script>
window.__results = {};
fetch('/token?state=xss-fetch').then(function (r) {
  return r.text().then(function (t) {
    window.__results.fetch = { status: r.status, leaked: t.indexOf('cb1.') !== -1 };
  });
}, function (e) { window.__results.fetch = { error: String(e) }; });
var frame = document.createElement('iframe');
frame.onload = function () {
  var text = null;
  try { text = frame.contentDocument && frame.contentDocument.body ? frame.contentDocument.body.innerText : null; }
  catch (e) { text = null; }
  window.__results.frame = { leaked: text !== null && text.indexOf('cb1.') !== -1 };
};
frame.src = '/token?state=xss-frame';
document.body.appendChild(frame);
</script></body></html>`;

/**
 * The injected script against relay login: the attacker registered a challenge and knows its code (their own
 * terminal shows it); the script tries to confirm it with the victim's cookies, by fetch and by a form.
 */
const XSS_RELAY_PAGE = `<!doctype html><html><head><title>app</title></head><body>
<script>
var params = new URLSearchParams(location.hash.slice(1));
var fields = { challenge: params.get('challenge'), code: params.get('code'), state: 'attacker-state', form_token: '' };
window.__results = {};
fetch('/token/relay', { method: 'POST', body: new URLSearchParams(fields) }).then(function (r) {
  window.__results.fetch = { status: r.status };
}, function (e) { window.__results.fetch = { error: String(e) }; });
window.__submitForm = function () {
  var form = document.createElement('form');
  form.method = 'post';
  form.action = '/token/relay';
  Object.keys(fields).forEach(function (name) {
    var input = document.createElement('input');
    input.type = 'hidden'; input.name = name; input.value = fields[name];
    form.appendChild(input);
  });
  document.body.appendChild(form);
  form.submit();
};
</script></body></html>`;

describeReal('/token against a script of the app behind the same proxy (real Chromium, real nginx)', () => {
  let stack: ServeBehindNginx;
  let chromium: LaunchedChromium;
  let page: Page;

  beforeAll(async () => {
    stack = await startServeBehindNginx({
      pages: {
        '/xss': {
          html: XSS_PAGE,
          // Cookies of other apps and of the IdP on the same site, as in the demo.
          setCookie: ['_session=idp-secret-value; Path=/', '_session.sig=idp-signature; Path=/'],
        },
        '/plain': { html: '<!doctype html><title>plain</title><p>no script</p>' },
        '/xss-relay': { html: XSS_RELAY_PAGE },
      },
    });
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    // Sign in at the proxy, landing on a plain app page (the XSS page runs later, on its own).
    expect(await signInAtLookalike(page, `${stack.endpoint}/plain`, 'victim@example.com')).toBe(200);
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await chromium?.close();
    await stack?.close();
  }, REAL_SETUP_TIMEOUT_MS);

  it(
    "a page script's fetch('/token') and frame are refused; a top-level /token navigation still works",
    async () => {
      await page.goto(`${stack.endpoint}/xss`, { waitUntil: 'domcontentloaded' });
      await page.waitForFunction('window.__results && window.__results.fetch && window.__results.frame');
      const results = (await page.evaluate('window.__results')) as {
        fetch: { status?: number; leaked?: boolean; error?: string };
        frame: { leaked: boolean };
      };
      expect(results).toEqual({ fetch: { status: 403, leaked: false }, frame: { leaked: false } });
      // serve refused both by their fetch metadata (Sec-Fetch-Mode cors; Sec-Fetch-Dest iframe).
      expect(stack.serveLog).toContainEqual(
        expect.stringMatching(/\/token: refused a request with Sec-Fetch-Mode cors/),
      );
      expect(stack.serveLog).toContainEqual(
        expect.stringMatching(/\/token: refused a request with Sec-Fetch-Dest iframe/),
      );

      // The person's own top-level navigation (here after a sign-in redirect chain) gets the page.
      const navigation = await page.goto(`${stack.endpoint}/token?state=by-hand`, {
        waitUntil: 'domcontentloaded',
      });
      expect(navigation?.status()).toBe(200);
      expect(navigation?.headers()['cross-origin-opener-policy']).toBe('same-origin');
      expect(navigation?.headers()['cross-origin-resource-policy']).toBe('same-origin');
      const bundle = decodeCookieBundle(await page.locator('#bundle').inputValue());
      // Only the proxy's session cookie travels: the app's and the IdP's cookies stay in the browser.
      expect(bundle.cookies.map((cookie) => cookie.name)).toEqual(['_oauth2_proxy']);
      expect(bundle.state).toBe('by-hand');
      expect(await page.locator('#all-cookies-notice').count()).toBe(0);

      // /token is served by serve: it never reached the app.
      expect(requestLines(stack.app)).toContain('GET /xss');
      expect(requestLines(stack.app).filter((line) => /^\S+ \/token/.test(line))).toEqual([]);
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    "a page script cannot confirm an attacker's relay sign-in with the victim's cookies, by fetch or by a form",
    async () => {
      const challenge = relayChallengeFor('attacker-verifier-'.padEnd(43, 'v'));
      const code = 'K7QD-M2XW';
      const registered = await rawRequest(Number(new URL(stack.endpoint).port), {
        method: 'POST',
        path: '/cookie-bridge/relay/register',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ challenge, code }),
      });
      expect(registered.status).toBe(201);

      await page.goto(`${stack.endpoint}/xss-relay#challenge=${challenge}&code=${code}`, {
        waitUntil: 'domcontentloaded',
      });
      await page.waitForFunction('window.__results && window.__results.fetch');
      expect(await page.evaluate('window.__results.fetch')).toEqual({ status: 403 });

      // A real form submission is a navigation, but it cannot carry the token only the /token page shows.
      const [answer] = await Promise.all([
        page.waitForResponse(
          (response) => response.url().endsWith('/token/relay') && response.request().method() === 'POST',
        ),
        page.evaluate('window.__submitForm()'),
      ]);
      expect(answer.status()).toBe(403);
      await page.waitForURL(`${stack.endpoint}/token/relay`, { waitUntil: 'domcontentloaded' });
      expect(await page.locator('#error').innerText()).toContain(
        'did not come from the sign-in page you opened',
      );

      expect(await stack.relayStore.lookup(challenge)).toMatchObject({ status: 'pending' });
      expect(stack.serveLog).toContainEqual(
        expect.stringMatching(/\/token\/relay: refused a request with Sec-Fetch-Mode cors/),
      );
      expect(stack.serveLog).toContainEqual(
        expect.stringMatching(/\/token\/relay: refused a confirm whose form token does not match/),
      );
      expect(requestLines(stack.app).filter((line) => /^\S+ \/(token|cookie-bridge)/.test(line))).toEqual([]);
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'a page script that opens /token in a window cannot reach into it (Cross-Origin-Opener-Policy)',
    async () => {
      await page.goto(`${stack.endpoint}/plain`, { waitUntil: 'domcontentloaded' });
      const popupOpened = chromium.context.waitForEvent('page');
      await page.evaluate("window.__popup = window.open('/token?state=popup'); true");
      const popup = await popupOpened;
      await popup.waitForLoadState('domcontentloaded');
      // The window itself shows the page (a top-level navigation)…
      expect(await popup.locator('#bundle').inputValue()).toMatch(/^cb1\./);
      // …but the opener's handle to it is severed: no document to read the bundle from.
      const reach = (await page.evaluate(`(() => {
        const w = window.__popup;
        try {
          return { closed: w.closed, bundle: w.document.getElementById('bundle').value };
        } catch (e) {
          return { closed: w.closed, error: e.name };
        }
      })()`)) as { closed: boolean; bundle?: string; error?: string };
      expect(reach.bundle).toBeUndefined();
      expect(reach.closed).toBe(true);
      await popup.close();
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});
