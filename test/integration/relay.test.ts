import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';
import { relayChallengeFor } from '../../src/protocol/relay-protocol';
import { createApp } from '../../src/server/create-app';
import { createServeApp } from '../../src/server/create-serve-app';
import { relayFormToken } from '../../src/server/navigation-guard';
import { createMemoryRelayStore, type RelayStore } from '../../src/server/relay-store';

const COOKIES = '_oauth2_proxy=c2Vzc2lvbi12YWx1ZQ; theme=dark';
const FORM_KEY = Buffer.alloc(32, 7);
/** The confirm form's token the /token page shows for COOKIES and EMAIL. */
const formTokenFor = (challenge: string): string =>
  relayFormToken(FORM_KEY, challenge, [{ name: '_oauth2_proxy', value: 'c2Vzc2lvbi12YWx1ZQ' }], EMAIL);
const EMAIL = 'alice@example.com';

interface Running {
  url: string;
  agent: ReturnType<typeof request>;
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<Running & { server: http.Server }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    server,
    url,
    agent: request(url),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

let verifierCounter = 0;
function newVerifier(): string {
  verifierCounter += 1;
  return `verifier-${String(verifierCounter).padStart(4, '0')}-${'x'.repeat(40)}`;
}

describe('relay login routes', () => {
  let upstreamHits: string[];
  let upstream: Running;
  let app: Running;
  let time: number;
  let store: RelayStore;

  beforeEach(async () => {
    upstreamHits = [];
    upstream = await listen((req, res) => {
      upstreamHits.push(req.url ?? '');
      res.end('upstream');
    });
    time = 1_000_000;
    store = createMemoryRelayStore({ now: () => time, maxEntries: 3 });
    app = await listen(
      createServeApp({ upstream: upstream.url, relayStore: store, now: () => time, relayFormKey: FORM_KEY })
        .app,
    );
  });
  afterEach(async () => {
    await app.close();
    await upstream.close();
  });

  const CODE = 'K7QD-M2XW';
  const STATE = 'the-login-state';
  const register = (challenge: string, code = CODE, forwardedFor?: string) => {
    const req = app.agent.post('/cookie-bridge/relay/register');
    if (forwardedFor !== undefined) req.set('X-Forwarded-For', forwardedFor);
    return req.send({ challenge, code });
  };
  const openPage = (challenge: string, extra = '') =>
    app.agent
      .get(`/token?state=${STATE}&relay=${challenge}${extra}`)
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', EMAIL);
  const confirm = (challenge: string, fields: Record<string, string> = {}) =>
    app.agent
      .post('/token/relay')
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', EMAIL)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ challenge, state: STATE, code: CODE, form_token: formTokenFor(challenge), ...fields });
  const claim = (verifier: string) => app.agent.post('/cookie-bridge/relay/claim').send({ verifier });

  it('advertises the relay', async () => {
    const res = await app.agent.get('/cookie-bridge/relay/info');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ relay: 1 });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('register → page → 202 pending → confirm with the typed code → 200 with the bundle once → 410', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);

    expect((await claim(verifier)).status).toBe(404); // never registered
    // The last hop is the one the proxy in front appended; the first one is whatever the client claimed.
    const registered = await register(challenge, CODE, '203.0.113.66, 198.51.100.7');
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({ status: 'registered' });
    expect((await register(challenge)).status).toBe(409);

    time += 90_000;
    const page = await openPage(challenge);
    expect(page.status).toBe(200);
    // When and from where, never the code itself.
    expect(page.text).toContain(
      `<strong id="relay-requested-at">${new Date(1_000_000).toISOString().slice(0, 10)}`,
    );
    expect(page.text).toContain('(1 min ago)');
    expect(page.text).toContain('<strong id="relay-source">127.0.0.1</strong>');
    expect(page.text).toContain('<strong id="relay-forwarded-for">198.51.100.7</strong>');
    expect(page.text).not.toContain('203.0.113.66');
    expect(page.text).not.toContain(CODE);
    expect(page.text).not.toContain(CODE.replace('-', ''));
    expect(page.text).toMatch(/<form id="relay-confirm-form" method="post" action="token\/relay">/);
    expect(page.text).toContain(`name="challenge" value="${challenge}"`);
    expect(page.text).toContain(`name="state" value="${STATE}"`);
    expect(page.text).toContain(`name="form_token" value="${formTokenFor(challenge)}"`);
    expect(page.text).toContain('id="relay-code-input" name="code"');
    expect(page.text).not.toContain('id="handoff"'); // relay only: no loopback form
    expect(String(page.headers['content-security-policy'])).toMatch(/form-action 'self'/);

    const pending = await claim(verifier);
    expect(pending.status).toBe(202);
    expect(pending.body).toEqual({ status: 'pending' });

    const confirmed = await confirm(challenge, { code: 'k7qdm2xw' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain('Confirmed &mdash; return to your terminal');
    expect(confirmed.text).not.toContain('c2Vzc2lvbi12YWx1ZQ');

    const ready = await claim(verifier);
    expect(ready.status).toBe(200);
    const bundle = decodeCookieBundle((ready.body as { bundle: string }).bundle);
    // Only the auth proxy's session cookie travels.
    expect(bundle.cookies).toEqual([{ name: '_oauth2_proxy', value: 'c2Vzc2lvbi12YWx1ZQ' }]);
    expect(bundle.user).toBe(EMAIL);
    expect(bundle.state).toBe(STATE);

    const again = await claim(verifier);
    expect(again.status).toBe(410);
    expect(again.body).toMatchObject({ error: 'relay_ended', reason: 'claimed' });
    expect(upstreamHits).toEqual([]);
  });

  it("refuses a confirm without this browser's form token, or sent by a script (fetch metadata)", async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await register(challenge);
    // Someone else's page shows a token bound to their cookies: it does not fit the victim's.
    const othersToken = relayFormToken(
      FORM_KEY,
      challenge,
      [{ name: '_oauth2_proxy', value: 'other' }],
      EMAIL,
    );
    for (const form_token of ['', othersToken, formTokenFor(relayChallengeFor(newVerifier()))]) {
      const res = await confirm(challenge, { form_token });
      expect(res.status).toBe(403);
      expect(res.text).toContain('did not come from the sign-in page you opened');
    }
    const scripted = await confirm(challenge).set('Sec-Fetch-Mode', 'cors').set('Sec-Fetch-Dest', 'empty');
    expect(scripted.status).toBe(403);
    expect((await claim(verifier)).status).toBe(202);
    expect((await confirm(challenge).set('Sec-Fetch-Mode', 'navigate')).status).toBe(200);
  });

  it('a wrong verifier learns nothing (404), and the right one still works', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await register(challenge);
    await confirm(challenge);
    const wrong = await claim(newVerifier());
    expect(wrong.status).toBe(404);
    expect(wrong.body).toMatchObject({ error: 'not_found' });
    expect((await claim(verifier)).status).toBe(200);
  });

  it('with a loopback port too, the page tries the loopback with fetch first', async () => {
    const challenge = relayChallengeFor(newVerifier());
    await register(challenge);
    const page = await openPage(challenge, '&local_port=45678');
    expect(page.text).toContain('data-mode="fetch"');
    expect(page.text).toContain('id="handoff-done" hidden');
    expect(page.text).toContain('<strong id="handoff-port">127.0.0.1:45678</strong>');
    expect(String(page.headers['content-security-policy'])).toContain('connect-src http://127.0.0.1:45678');
  });

  it('forgets a sign-in after five minutes', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await register(challenge);
    await confirm(challenge);
    time += 5 * 60 * 1000;
    expect((await claim(verifier)).status).toBe(404);
  });

  it('confirming an unregistered or expired challenge is a 404 page', async () => {
    const challenge = relayChallengeFor(newVerifier());
    const res = await confirm(challenge);
    expect(res.status).toBe(404);
    expect(res.text).toContain('unknown or has expired');
  });

  it('a confirm without the code or the state is malformed (400)', async () => {
    const challenge = relayChallengeFor(newVerifier());
    await register(challenge);
    const noCode = await app.agent
      .post('/token/relay')
      .set('Cookie', COOKIES)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ challenge, state: STATE, form_token: formTokenFor(challenge) });
    expect(noCode.status).toBe(400);
    const noState = await app.agent
      .post('/token/relay')
      .set('Cookie', COOKIES)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ challenge, code: CODE, form_token: formTokenFor(challenge) });
    expect(noState.status).toBe(400);
  });

  it('refuses new registrations with 503 JSON when the store is full', async () => {
    for (let i = 0; i < 3; i += 1)
      expect((await register(relayChallengeFor(newVerifier()), CODE, `192.0.2.${i}`)).status).toBe(201);
    const full = await register(relayChallengeFor(newVerifier()), CODE, '192.0.2.99');
    expect(full.status).toBe(503);
    expect(full.headers['content-type']).toMatch(/^application\/json/);
    expect(full.headers['retry-after']).toBe('60');
    expect(full.body).toMatchObject({ error: 'relay_full' });
  });

  it('a confirm without cookies is a 400', async () => {
    const challenge = relayChallengeFor(newVerifier());
    await register(challenge);
    const res = await app.agent
      .post('/token/relay')
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ challenge, code: CODE, state: STATE, form_token: formTokenFor(challenge) });
    expect(res.status).toBe(400);
    expect(res.text).toContain('sent no cookies');
  });

  it('refuses cross-site confirms (Sec-Fetch-Site, else Origin) with 403 and stores nothing', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await register(challenge);
    const fields = { challenge, code: CODE, state: STATE, form_token: formTokenFor(challenge) };
    const post = () =>
      app.agent.post('/token/relay').set('Cookie', COOKIES).set('X-Auth-Request-Email', EMAIL).type('form');
    expect((await post().set('Sec-Fetch-Site', 'cross-site').send(fields)).status).toBe(403);
    expect((await post().set('Sec-Fetch-Site', 'same-site').send(fields)).status).toBe(403);
    expect((await post().set('Origin', 'http://evil.example').send(fields)).status).toBe(403);
    expect((await post().set('Origin', 'null').send(fields)).status).toBe(403);
    expect((await post().send(fields)).status).toBe(403); // neither header
    expect((await claim(verifier)).status).toBe(202);
    // the same origin, told by Origin alone (older browsers)
    expect((await post().set('Origin', app.url).send(fields)).status).toBe(200);
    expect((await claim(verifier)).status).toBe(200);
  });

  it('keeps the claim cheap: 1 KiB body, JSON only, a well-formed verifier', async () => {
    const big = await app.agent
      .post('/cookie-bridge/relay/claim')
      .type('json')
      .send(JSON.stringify({ verifier: 'a'.repeat(2000) }));
    expect(big.status).toBe(413);
    const form = await app.agent
      .post('/cookie-bridge/relay/claim')
      .type('form')
      .send({ verifier: newVerifier() });
    expect(form.status).toBe(415);
    const bad = await claim('not a verifier!');
    expect(bad.status).toBe(400);
    expect((await app.agent.get('/cookie-bridge/relay/claim')).status).toBe(405);
    expect((await app.agent.get('/cookie-bridge/relay/register')).status).toBe(405);
    const badCode = await app.agent
      .post('/cookie-bridge/relay/register')
      .send({ challenge: relayChallengeFor(newVerifier()), code: 'UUUU-UUUU' });
    expect(badCode.status).toBe(400);
  });

  it('never forwards the relay prefix to the upstream, however it is spelled', async () => {
    for (const path of [
      '/cookie-bridge/relay/other',
      '/cookie-bridge/relay/',
      '/cookie-bridge%2Frelay/x',
      '/cookie-bridge/relay%2F..%2F..%2Fapi/items',
      '/COOKIE-BRIDGE/RELAY/info',
      '/cookie-bridge//relay/x',
    ]) {
      const res = await app.agent.get(path);
      // 400: dot segments or double encoding, refused before any route (issue 8 item 1).
      expect([400, 404, 405]).toContain(res.status);
    }
    expect(upstreamHits).toEqual([]);
    expect((await app.agent.get('/cookie-bridge/other')).text).toBe('upstream');
  });

  it('a server without a relay store answers relay= with 400', async () => {
    const plain = await listen(createApp());
    try {
      const res = await plain.agent
        .get(`/token?state=s&relay=${relayChallengeFor(newVerifier())}`)
        .set('Cookie', COOKIES);
      expect(res.status).toBe(400);
      expect(res.text).toContain('This server has no relay');
      expect((await plain.agent.get('/token?state=s&relay=short').set('Cookie', COOKIES)).status).toBe(400);
      expect(
        (await plain.agent.get(`/token?relay=${relayChallengeFor(newVerifier())}`).set('Cookie', COOKIES))
          .status,
      ).toBe(400); // relay without state
    } finally {
      await plain.close();
    }
  });
});

// serve --relay-ttl 90: every text about how long a relay sign-in lives states the store's lifetime, and the
// store keeps entries exactly that long.
describe('relay texts with a relay TTL of 90 seconds', () => {
  const TTL_MS = 90_000;
  const CODE = 'K7QD-M2XW';
  const STATE = 'the-login-state';
  let time: number;
  let app: Running;

  beforeEach(async () => {
    time = 1_000_000;
    const store = createMemoryRelayStore({
      now: () => time,
      ttlMs: TTL_MS,
      maxEntries: 2,
      maxPendingPerSource: 1,
      maxConfirmedPerIdentity: 1,
    });
    app = await listen(
      createServeApp({
        upstream: 'http://127.0.0.1:9',
        relayStore: store,
        now: () => time,
        relayFormKey: FORM_KEY,
      }).app,
    );
  });
  afterEach(async () => {
    await app.close();
  });

  const register = (challenge: string, forwardedFor: string) =>
    app.agent
      .post('/cookie-bridge/relay/register')
      .set('X-Forwarded-For', forwardedFor)
      .send({ challenge, code: CODE });
  const openPage = (challenge: string) =>
    app.agent
      .get(`/token?state=${STATE}&relay=${challenge}`)
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', EMAIL);
  const confirm = (challenge: string) =>
    app.agent
      .post('/token/relay')
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', EMAIL)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ challenge, state: STATE, code: CODE, form_token: formTokenFor(challenge) });

  it('the /token page says how long the request stays open, and it is gone after that', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    expect((await register(challenge, '192.0.2.1')).status).toBe(201);
    const page = await openPage(challenge);
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      '<span id="relay-lifetime">The request stays open for 90 seconds after the terminal made it.</span>',
    );
    expect(page.text).not.toContain('5 minutes');

    time += TTL_MS - 1;
    expect((await openPage(challenge)).status).toBe(200);
    time += 1;
    const gone = await openPage(challenge);
    expect(gone.status).toBe(404);
    expect(gone.text).toContain('(a request expires 90 seconds after the terminal made it)');
    const late = await confirm(challenge);
    expect(late.status).toBe(404);
    expect(late.text).toContain('(a request expires 90 seconds after the terminal made it)');
  });

  it('the 503 refusals of register state it in the message and as ttl_seconds', async () => {
    expect((await register(relayChallengeFor(newVerifier()), '192.0.2.1')).status).toBe(201);
    const sourceFull = await register(relayChallengeFor(newVerifier()), '192.0.2.1');
    expect(sourceFull.status).toBe(503);
    expect(sourceFull.body).toEqual({
      error: 'relay_source_full',
      message:
        'too many relay sign-ins are waiting from your address: finish or let them expire (90 seconds), then try again',
      ttl_seconds: 90,
    });

    expect((await register(relayChallengeFor(newVerifier()), '192.0.2.2')).status).toBe(201);
    const full = await register(relayChallengeFor(newVerifier()), '192.0.2.3');
    expect(full.status).toBe(503);
    expect(full.body).toEqual({
      error: 'relay_full',
      message:
        'too many relay sign-ins are waiting on this server (each expires within 90 seconds): try again later',
      ttl_seconds: 90,
    });
  });

  it('the 429 page for too many unclaimed confirmations states it', async () => {
    const first = relayChallengeFor(newVerifier());
    const second = relayChallengeFor(newVerifier());
    expect((await register(first, '192.0.2.1')).status).toBe(201);
    expect((await register(second, '192.0.2.2')).status).toBe(201);
    expect((await confirm(first)).status).toBe(200);
    const refused = await confirm(second);
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('(each expires 90 seconds after it was confirmed)');
    expect(refused.text).not.toContain('a few minutes');
  });
});
