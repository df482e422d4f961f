import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { decodeCookieBundle } from '../../src/core/bundle-codec';
import { relayChallengeFor, relayCode } from '../../src/core/relay-protocol';
import { createApp } from '../../src/server/create-app';
import { createServeApp } from '../../src/server/create-serve-app';
import { createMemoryRelayStore, type RelayStore } from '../../src/server/relay-store';

const COOKIES = '_oauth2_proxy=c2Vzc2lvbi12YWx1ZQ; theme=dark';
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
    app = await listen(createServeApp({ upstream: upstream.url, relayStore: store }).app);
  });
  afterEach(async () => {
    await app.close();
    await upstream.close();
  });

  const openPage = (challenge: string, extra = '') =>
    app.agent
      .get(`/token?relay=${challenge}${extra}`)
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', EMAIL);
  const confirm = (challenge: string, fields: Record<string, string> = {}) =>
    app.agent
      .post('/token/relay')
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', EMAIL)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ challenge, ...fields });
  const claim = (verifier: string) => app.agent.post('/cookie-bridge/relay/claim').send({ verifier });

  it('advertises the relay', async () => {
    const res = await app.agent.get('/cookie-bridge/relay/info');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ relay: 1 });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('page → 202 pending → confirm → 200 with the bundle once → 404', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);

    expect((await claim(verifier)).status).toBe(404); // not seen yet

    const page = await openPage(challenge);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<strong id="relay-code">${relayCode(challenge)}</strong>`);
    expect(page.text).toContain('Only confirm if your terminal shows this code');
    expect(page.text).toMatch(/<form id="relay-confirm-form" method="post" action="token\/relay">/);
    expect(page.text).toContain(`name="challenge" value="${challenge}"`);
    expect(page.text).toContain('id="relay-confirm"');
    expect(page.text).not.toContain('id="handoff"'); // relay only: no loopback form
    expect(String(page.headers['content-security-policy'])).toMatch(/form-action 'self'/);

    const pending = await claim(verifier);
    expect(pending.status).toBe(202);
    expect(pending.body).toEqual({ status: 'pending' });

    const confirmed = await confirm(challenge);
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain('Confirmed &mdash; return to your terminal');
    expect(confirmed.text).toContain(relayCode(challenge));
    expect(confirmed.text).not.toContain('c2Vzc2lvbi12YWx1ZQ');

    const ready = await claim(verifier);
    expect(ready.status).toBe(200);
    const bundle = decodeCookieBundle((ready.body as { bundle: string }).bundle);
    expect(bundle.cookies).toEqual([
      { name: '_oauth2_proxy', value: 'c2Vzc2lvbi12YWx1ZQ' },
      { name: 'theme', value: 'dark' },
    ]);
    expect(bundle.user).toBe(EMAIL);
    // the same bundle /token itself shows
    const plain = await app.agent.get('/token').set('Cookie', COOKIES).set('X-Auth-Request-Email', EMAIL);
    const shown = /<textarea id="bundle"[^>]*>([^<]*)<\/textarea>/.exec(plain.text)?.[1];
    expect(shown).toBe((ready.body as { bundle: string }).bundle);

    expect((await claim(verifier)).status).toBe(404);
    expect(upstreamHits).toEqual([]);
  });

  it('a wrong verifier learns nothing (404), and the right one still works', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await openPage(challenge);
    await confirm(challenge);
    const wrong = await claim(newVerifier());
    expect(wrong.status).toBe(404);
    expect(wrong.body).toMatchObject({ error: 'not_found' });
    expect((await claim(verifier)).status).toBe(200);
  });

  it('carries the login state into the bundle when the page had one, and refuses a second confirm', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    const page = await openPage(challenge, '&local_port=45678&state=the-state');
    expect(page.text).toContain('data-mode="fetch"');
    expect(page.text).toContain('id="handoff-done" hidden');
    expect(page.text).toContain('name="state" value="the-state"');
    expect(String(page.headers['content-security-policy'])).toContain('connect-src http://127.0.0.1:45678');
    expect((await confirm(challenge, { state: 'the-state' })).status).toBe(200);
    const again = await confirm(challenge, { state: 'the-state' });
    expect(again.status).toBe(409);
    const ready = await claim(verifier);
    expect(decodeCookieBundle((ready.body as { bundle: string }).bundle).state).toBe('the-state');
  });

  it('forgets a sign-in after five minutes', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await openPage(challenge);
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

  it('refuses new relay logins with 503 when too many are pending', async () => {
    for (let i = 0; i < 3; i += 1)
      expect((await openPage(relayChallengeFor(newVerifier()))).status).toBe(200);
    const full = await openPage(relayChallengeFor(newVerifier()));
    expect(full.status).toBe(503);
    expect(full.text).toContain('Too many sign-ins are waiting');
  });

  it('a confirm without cookies is a 400', async () => {
    const challenge = relayChallengeFor(newVerifier());
    await openPage(challenge);
    const res = await app.agent
      .post('/token/relay')
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ challenge });
    expect(res.status).toBe(400);
    expect(res.text).toContain('sent no cookies');
  });

  it('refuses cross-site confirms (Sec-Fetch-Site, else Origin) with 403 and stores nothing', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await openPage(challenge);
    const post = () => app.agent.post('/token/relay').set('Cookie', COOKIES).type('form');
    expect((await post().set('Sec-Fetch-Site', 'cross-site').send({ challenge })).status).toBe(403);
    expect((await post().set('Sec-Fetch-Site', 'same-site').send({ challenge })).status).toBe(403);
    expect((await post().set('Origin', 'http://evil.example').send({ challenge })).status).toBe(403);
    expect((await post().set('Origin', 'null').send({ challenge })).status).toBe(403);
    expect((await post().send({ challenge })).status).toBe(403); // neither header
    expect((await claim(verifier)).status).toBe(202);
    // the same origin, told by Origin alone (older browsers)
    expect((await post().set('Origin', app.url).send({ challenge })).status).toBe(200);
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
        .get(`/token?relay=${relayChallengeFor(newVerifier())}`)
        .set('Cookie', COOKIES);
      expect(res.status).toBe(400);
      expect(res.text).toContain('This server has no relay');
      expect((await plain.agent.get('/token?relay=short').set('Cookie', COOKIES)).status).toBe(400);
    } finally {
      await plain.close();
    }
  });
});
