/**
 * Hostile requests to the server half: GET /token with bad or marked-up query values, an over-long query
 * and no cookies; and the relay login (/cookie-bridge/relay/register, POST /token/relay, /relay/claim) with wrong, replayed
 * and expired verifiers, cross-site confirms, overwrites and a flood of pending entries. Served by
 * createServeApp on 127.0.0.1 port 0 with an injected clock and a small relay store.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Response } from 'supertest';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';
import { relayChallengeFor } from '../../src/protocol/relay-protocol';
import { createServeApp } from '../../src/server/create-serve-app';
import { relayFormToken } from '../../src/server/navigation-guard';
import { createMemoryRelayStore, DEFAULT_RELAY_MAX_ENTRIES } from '../../src/server/relay-store';
import { MAX_TOKEN_QUERY_LENGTH } from '../../src/server/token-route';

const SESSION = 'S3ss10n-<script>alert(1)</script>';
const COOKIE = `_oauth2_proxy=${SESSION}`;
/** The injected payloads, as markup (the page has nonce-d script tags of its own). */
const MARKUP = /<script>alert|<img src=x|<svg onload|<iframe>/i;
const TTL_MS = 60_000;
const FORM_KEY = Buffer.alloc(32, 9);
const MAX_ENTRIES = 5;

let clock = 1_700_000_000_000;
let upstreamHits = 0;
let upstream: http.Server;
let server: http.Server;
let agent: ReturnType<typeof request>;
let host: string;

beforeAll(async () => {
  upstream = http.createServer((_req, res) => {
    upstreamHits += 1;
    res.end('upstream');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { app } = createServeApp({
    upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    relayStore: createMemoryRelayStore({ now: () => clock, ttlMs: TTL_MS, maxEntries: MAX_ENTRIES }),
    relayFormKey: FORM_KEY,
  });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  agent = request(`http://${host}`);
});
afterAll(async () => {
  for (const s of [server, upstream]) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** The headers every /token answer must carry (guards setTokenPageHeaders). */
function expectLockedDown(res: Response): void {
  expect(res.headers['cache-control']).toBe('no-store');
  expect(res.headers['x-frame-options']).toBe('DENY');
  expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(res.headers['x-content-type-options']).toBe('nosniff');
}

describe('GET /token with hostile queries', () => {
  const badQueries = [
    'local_port=0&state=abc',
    'local_port=80&state=abc',
    'local_port=1023&state=abc',
    'local_port=65536&state=abc',
    'local_port=99999999999999999999&state=abc',
    'local_port=-8080&state=abc',
    'local_port=8e3&state=abc',
    'local_port=0x1F90&state=abc',
    'local_port=%208080&state=abc',
    'local_port=8080%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=abc',
    'local_port=%3Csvg%20onload%3Dalert(1)%3E&state=abc',
    'local_port=8080',
    'local_port=8080&local_port=8081&state=abc',
    'local_port=8080&state=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    'state=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E',
    `state=${'a'.repeat(257)}`,
    'state=abc&state=def',
    'state=a%00b',
    'relay=%3Ciframe%3E',
  ];

  it.each(badQueries)('%s → 400, nothing echoed as markup, locked-down headers', async (query) => {
    // Guards parseTokenQuery and the error page's escaping: with the session cookie present, so the
    // refusal is about the query and not the missing session.
    const res = await agent.get(`/token?${query}`).set('Cookie', COOKIE);
    expect(res.status).toBe(400);
    expect(res.text).not.toMatch(MARKUP);
    expect(res.text).not.toContain(SESSION);
    expectLockedDown(res);
  });

  it('an over-long query → 414, not parsed, not echoed', async () => {
    const query = `state=abc&x=${'<script>'.repeat(Math.ceil(MAX_TOKEN_QUERY_LENGTH / 8))}`;
    const res = await agent.get(`/token?${query}`).set('Cookie', COOKIE);
    expect(res.status).toBe(414);
    expect(res.text).not.toMatch(MARKUP);
    expectLockedDown(res);
  });

  it('no cookies → 400 with an explanation, no bundle', async () => {
    const res = await agent.get('/token?local_port=8080&state=abc');
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/sent no cookies/);
    expect(res.text).not.toMatch(/cb1\./);
    expectLockedDown(res);
  });

  it('markup in cookies and the identity header is escaped; the bundle carries the cookie intact', async () => {
    const res = await agent
      .get('/token?local_port=8080&state=abc')
      .set('Cookie', COOKIE)
      .set('X-Auth-Request-Email', '<img src=x onerror=alert(1)>@example.com');
    expect(res.status).toBe(200);
    expect(res.text).not.toMatch(MARKUP);
    expectLockedDown(res);
    // The CSP only lets the page post to the loopback port it was given.
    expect(res.headers['content-security-policy']).toContain(
      'form-action http://127.0.0.1:8080 http://localhost:8080',
    );
    const bundle = /cb1\.[A-Za-z0-9_-]+/.exec(res.text)![0];
    expect(decodeCookieBundle(bundle)).toMatchObject({
      state: 'abc',
      cookies: [{ name: '_oauth2_proxy', value: SESSION }],
    });
  });
});

describe('relay login under attack', () => {
  const newVerifier = (): string => randomBytes(32).toString('base64url');
  const CODE = 'Q4ZT-9HRB';
  const register = (challenge: string) =>
    agent.post('/cookie-bridge/relay/register').send({ challenge, code: CODE });
  const confirm = (
    challenge: string,
    headers: Record<string, string> = { Origin: `http://${host}` },
    cookie = COOKIE,
  ) =>
    agent
      .post('/token/relay')
      .set(headers)
      .set('Cookie', cookie)
      .type('form')
      .send({ challenge, state: 'st4te', code: CODE, form_token: formTokenFor(challenge, cookie) });
  /** The form token the /token page of a browser sending `cookie` ("name=value") shows. */
  const formTokenFor = (challenge: string, cookie: string): string => {
    const [name = '', value = ''] = cookie.split(/=(.*)/s);
    return relayFormToken(FORM_KEY, challenge, [{ name, value }], undefined);
  };
  const claim = (verifier: string) =>
    agent.post('/cookie-bridge/relay/claim').set('Content-Type', 'application/json').send({ verifier });

  beforeEach(() => {
    clock += 10 * TTL_MS; // every test starts with an empty store: all earlier entries have expired
  });

  it('a wrong verifier gets nothing and does not consume the sign-in; a replayed verifier gets nothing', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    expect((await register(challenge)).status).toBe(201);
    expect((await confirm(challenge)).status).toBe(200);
    // Guards the PKCE-style check: only sha256(verifier) == challenge claims.
    const wrong = await claim(newVerifier());
    expect(wrong.status).toBe(404);
    expect(wrong.text).not.toContain('cb1.');
    expect((await claim(challenge)).status).toBe(404); // the challenge itself is no verifier
    expect((await claim('<script>')).status).toBe(400);
    const right = await claim(verifier);
    expect(right.status).toBe(200);
    expect(decodeCookieBundle((right.body as { bundle: string }).bundle).cookies).toEqual([
      { name: '_oauth2_proxy', value: SESSION },
    ]);
    // Guards one-shot claims.
    const replay = await claim(verifier);
    expect(replay.status).toBe(410);
    expect(replay.text).not.toContain('cb1.');
  });

  it('an expired entry can be neither confirmed nor claimed', async () => {
    const pending = newVerifier();
    const confirmed = newVerifier();
    expect((await register(relayChallengeFor(pending))).status).toBe(201);
    expect((await register(relayChallengeFor(confirmed))).status).toBe(201);
    expect((await confirm(relayChallengeFor(confirmed))).status).toBe(200);
    clock += TTL_MS; // guards expiry by the injected clock
    expect((await confirm(relayChallengeFor(pending))).status).toBe(404);
    expect((await claim(pending)).status).toBe(404);
    expect((await claim(confirmed)).status).toBe(404);
  });

  it('cross-site confirms are refused; a confirmed bundle is never overwritten; unknown challenges are refused', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    expect((await register(challenge)).status).toBe(201);
    // Guards isSameOriginRequest: a foreign page posting with the victim's cookies.
    for (const headers of [
      { 'Sec-Fetch-Site': 'cross-site', Origin: `http://${host}` },
      { 'Sec-Fetch-Site': 'same-site' },
      { Origin: 'http://evil.example' },
      { Origin: 'null' },
      {},
    ]) {
      const res = await confirm(challenge, headers as Record<string, string>);
      expect(res.status).toBe(403);
      expectLockedDown(res);
    }
    expect((await claim(verifier)).status).toBe(202); // still pending: nothing was confirmed
    expect((await confirm(challenge)).status).toBe(200);
    // An attacker who learns the challenge (and even the code) cannot swap in their own session afterwards.
    const swap = await confirm(challenge, { Origin: `http://${host}` }, '_oauth2_proxy=attacker-session');
    expect(swap.status).toBe(409);
    const claimed = await claim(verifier);
    expect(decodeCookieBundle((claimed.body as { bundle: string }).bundle).cookies[0]!.value).toBe(SESSION);
    // Nor plant a bundle under a challenge nobody registered.
    expect((await confirm(relayChallengeFor(newVerifier()))).status).toBe(404);
  });

  it('too many pending entries: refused with 503, room again once they expire (bounded memory)', async () => {
    const challenges = Array.from({ length: MAX_ENTRIES }, () => relayChallengeFor(newVerifier()));
    for (const challenge of challenges) expect((await register(challenge)).status).toBe(201);
    // Guards maxEntries: the store never grows past its bound and never evicts a live entry.
    const refused = await register(relayChallengeFor(newVerifier()));
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ error: 'relay_full' });
    expect(refused.headers['cache-control']).toBe('no-store');
    expect((await confirm(challenges[0]!)).status).toBe(200);
    clock += TTL_MS;
    expect((await register(relayChallengeFor(newVerifier()))).status).toBe(201);
  });

  it('the default store is bounded too', async () => {
    const store = createMemoryRelayStore({ now: () => clock });
    const from = (i: number) => ({ code: CODE, source: { address: `10.0.${i >> 8}.${i & 255}` } });
    for (let i = 0; i < DEFAULT_RELAY_MAX_ENTRIES; i += 1) {
      expect(await store.register(relayChallengeFor(String(i).padStart(43, 'x')), from(i))).toBe(
        'registered',
      );
    }
    expect(await store.register(relayChallengeFor('one-more'.padEnd(43, 'y')), from(9999))).toBe('full');
  });

  it('relay paths, however spelled, never reach the upstream', async () => {
    const before = upstreamHits;
    for (const path of [
      '/cookie-bridge/relay/other',
      '/Cookie-Bridge/Relay/claim',
      '/cookie-bridge%2Frelay%2Fclaim',
      '/cookie-bridge/relay%252Fclaim',
      '//cookie-bridge//relay/claim',
      '/cookie-bridge\\relay\\claim',
    ]) {
      const res = await agent.get(path);
      // 400: dot segments or double encoding, refused before any route (issue 8 item 1).
      expect([400, 404, 405]).toContain(res.status);
    }
    expect(upstreamHits).toBe(before);
  });
});
