/**
 * serve while its relay store cannot answer (issue 12: a shared Redis store that is down or restarting): the
 * relay routes answer 503 `relay_store_unavailable` with Retry-After, the /token page in relay mode a page
 * saying to retry (never a confirm form), and everything else goes on. Also: a form rendered by one replica is
 * accepted by another when both share a store with formKey(). Real listeners on loopback port 0; the store is a
 * memory store behind a switch.
 */
import { getEventListeners } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';
import { relayChallengeFor } from '../../src/protocol/relay-protocol';
import { createServeApp } from '../../src/server/create-serve-app';
import {
  pollRelay,
  RELAY_STORE_BACK_NOTICE,
  RELAY_STORE_OUTAGE_NOTICE,
  registerRelay,
} from '../../src/login/relay-client';
import { createHttpClient } from '../../src/http/http-request';
import {
  createMemoryRelayStore,
  RelayStoreUnavailableError,
  type RelayStore,
} from '../../src/server/relay-store';

const COOKIES = '_oauth2_proxy=c2Vzc2lvbi12YWx1ZQ';
const EMAIL = 'alice@example.com';
const CODE = 'K7QD-M2XW';
const STATE = 'the-login-state';
/** What the fake store says when down: internal detail that must stay in --debug. */
const STORE_DETAIL = 'redis://10.0.0.7:6379/0 unreachable: ECONNREFUSED';

interface Running {
  url: string;
  agent: ReturnType<typeof request>;
  close(): Promise<void>;
}

async function listen(handler: http.RequestListener): Promise<Running> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    agent: request(url),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Failure = 'unavailable' | 'broken' | undefined;

/** A store every replica shares, with a shared formKey(), that fails on demand (per method or all). */
function switchableStore(key: Buffer | null = Buffer.alloc(32, 9)) {
  const inner = createMemoryRelayStore();
  const state: { all: Failure; formKey: Failure; calls: string[] } = {
    all: undefined,
    formKey: undefined,
    calls: [],
  };
  const gate = <T>(method: string, run: () => Promise<T>): Promise<T> => {
    state.calls.push(method);
    const failure = method === 'formKey' ? (state.formKey ?? state.all) : state.all;
    if (failure === 'unavailable') return Promise.reject(new RelayStoreUnavailableError(STORE_DETAIL));
    if (failure === 'broken') return Promise.reject(new Error('WRONGTYPE Operation against a key'));
    return run();
  };
  const store: RelayStore = {
    register: (challenge, registration) => gate('register', () => inner.register(challenge, registration)),
    lookup: (challenge) => gate('lookup', () => inner.lookup(challenge)),
    confirm: (challenge, confirmation) => gate('confirm', () => inner.confirm(challenge, confirmation)),
    claim: (challenge) => gate('claim', () => inner.claim(challenge)),
    ...(key === null ? {} : { formKey: () => gate('formKey', () => Promise.resolve(key)) }),
  };
  return { store, state };
}

let verifierCounter = 0;
function newVerifier(): string {
  verifierCounter += 1;
  return `verifier-${String(verifierCounter).padStart(4, '0')}-${'y'.repeat(40)}`;
}

const UNAVAILABLE_BODY = {
  error: 'relay_store_unavailable',
  message: expect.stringMatching(/^relay store unavailable: /) as unknown,
};

/** The relay steps as the CLI and the proxy send them, against one replica (supertest agent). */
const register = (agent: ReturnType<typeof request>, challenge: string) =>
  agent.post('/cookie-bridge/relay/register').send({ challenge, code: CODE });
const claim = (agent: ReturnType<typeof request>, verifier: string) =>
  agent.post('/cookie-bridge/relay/claim').send({ verifier });
const openPage = (agent: ReturnType<typeof request>, challenge: string) =>
  agent
    .get(`/token?state=${STATE}&relay=${challenge}`)
    .set('Cookie', COOKIES)
    .set('X-Auth-Request-Email', EMAIL);
const confirm = (agent: ReturnType<typeof request>, challenge: string, formToken: string) =>
  agent
    .post('/token/relay')
    .set('Cookie', COOKIES)
    .set('X-Auth-Request-Email', EMAIL)
    .set('Sec-Fetch-Site', 'same-origin')
    .type('form')
    .send({ challenge, state: STATE, code: CODE, form_token: formToken });
const formTokenOf = (page: string): string => {
  const token = /name="form_token" value="([^"]+)"/.exec(page)?.[1];
  if (token === undefined) throw new Error('the page shows no confirm form');
  return token;
};

describe('serve while the relay store is unavailable', () => {
  let upstream: Running;
  let upstreamHits: string[];
  let replica: Running;
  let fake: ReturnType<typeof switchableStore>;
  let debugLines: string[];

  beforeEach(async () => {
    upstreamHits = [];
    upstream = await listen((req, res) => {
      upstreamHits.push(req.url ?? '');
      if (req.url === '/api/health') res.writeHead(404).end();
      else res.end('from the app');
    });
    fake = switchableStore();
    debugLines = [];
    const logger = {
      debug: (line: string) => debugLines.push(line),
      info: () => undefined,
      warn: () => undefined,
    };
    replica = await listen(createServeApp({ upstream: upstream.url, relayStore: fake.store, logger }).app);
  });
  afterEach(async () => {
    await replica.close();
    await upstream.close();
  });

  it('register and claim answer 503 JSON relay_store_unavailable with Retry-After, without the store detail', async () => {
    fake.state.all = 'unavailable';
    const verifier = newVerifier();
    for (const res of [
      await register(replica.agent, relayChallengeFor(verifier)),
      await claim(replica.agent, verifier),
    ]) {
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual(UNAVAILABLE_BODY);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).not.toContain('10.0.0.7');
    }
    // The store's reason is for the operator, in --debug.
    expect(debugLines.some((line) => line.includes(STORE_DETAIL))).toBe(true);
    expect(fake.state.calls).toEqual(['register', 'claim']);
  });

  it('the /token page in relay mode says to retry (503 page, no confirm form); JSON for a client that asks', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    expect((await register(replica.agent, challenge)).status).toBe(201);
    fake.state.all = 'unavailable';
    const page = await openPage(replica.agent, challenge);
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['retry-after']).toBeDefined();
    expect(page.text).toContain('relay store is unavailable');
    expect(page.text).toContain('reload this page in a few seconds');
    expect(page.text).not.toContain('relay-confirm-form');
    expect(page.text).not.toContain('c2Vzc2lvbi12YWx1ZQ');
    const json = await openPage(replica.agent, challenge).set('Accept', 'application/json');
    expect(json.status).toBe(503);
    expect(json.body).toEqual(UNAVAILABLE_BODY);

    // Only the shared form key failing: no form either (it could not be checked later).
    fake.state.all = undefined;
    fake.state.formKey = 'unavailable';
    const noKey = await openPage(replica.agent, challenge);
    expect(noKey.status).toBe(503);
    expect(noKey.text).not.toContain('relay-confirm-form');

    // Back: the same page shows the form.
    fake.state.formKey = undefined;
    const back = await openPage(replica.agent, challenge);
    expect(back.status).toBe(200);
    expect(back.text).toContain('relay-confirm-form');
  });

  it('a confirm during the outage is a 503 page and uses nothing up; the same confirm works once the store is back', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await register(replica.agent, challenge);
    const token = formTokenOf((await openPage(replica.agent, challenge)).text);

    fake.state.formKey = 'unavailable';
    const keyDown = await confirm(replica.agent, challenge, token);
    expect(keyDown.status).toBe(503);
    expect(keyDown.headers['content-type']).toMatch(/^text\/html/);
    expect(keyDown.text).toContain('relay store is unavailable');
    fake.state.formKey = undefined;
    fake.state.all = 'unavailable';
    const storeDown = await confirm(replica.agent, challenge, token);
    expect(storeDown.status).toBe(503);
    expect(storeDown.headers['retry-after']).toBeDefined();
    expect((await claim(replica.agent, verifier)).status).toBe(503);

    fake.state.all = undefined;
    expect((await claim(replica.agent, verifier)).status).toBe(202);
    const confirmed = await confirm(replica.agent, challenge, token);
    expect(confirmed.status).toBe(200);
    const ready = await claim(replica.agent, verifier);
    expect(ready.status).toBe(200);
    expect(decodeCookieBundle((ready.body as { bundle: string }).bundle).state).toBe(STATE);
  });

  it('proxying, plain /token, /cookie-bridge/relay/info and /api/health keep working', async () => {
    fake.state.all = 'unavailable';
    const proxied = await replica.agent.get('/api/items?x=1');
    expect(proxied.status).toBe(200);
    expect(proxied.text).toBe('from the app');
    const token = await replica.agent.get(`/token?state=${STATE}`).set('Cookie', COOKIES);
    expect(token.status).toBe(200);
    expect(token.text).toContain('id="bundle"');
    expect((await replica.agent.get('/cookie-bridge/relay/info')).body).toEqual({ relay: 1 });
    const health = await replica.agent.get('/api/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok' });
    expect(upstreamHits).toEqual(['/api/items?x=1', '/api/health']);
    expect(fake.state.calls).toEqual([]);
  });

  it('any other store error stays a 500 internal_error', async () => {
    fake.state.all = 'broken';
    const verifier = newVerifier();
    const registered = await register(replica.agent, relayChallengeFor(verifier));
    expect(registered.status).toBe(500);
    expect(registered.body).toEqual({ error: 'internal_error', message: 'internal server error' });
    expect((await claim(replica.agent, verifier)).status).toBe(500);
    expect(registered.headers['retry-after']).toBeUndefined();
  });
});

describe('several replicas sharing one store', () => {
  let upstream: Running;
  let replicas: Running[];

  const start = async (stores: RelayStore[], keys: Array<Buffer | undefined> = []): Promise<void> => {
    replicas = await Promise.all(
      stores.map((relayStore, i) => {
        const relayFormKey = keys[i];
        return listen(
          createServeApp({
            upstream: upstream.url,
            relayStore,
            ...(relayFormKey === undefined ? {} : { relayFormKey }),
          }).app,
        );
      }),
    );
  };
  beforeEach(async () => {
    upstream = await listen((_req, res) => res.end('app'));
    replicas = [];
  });
  afterEach(async () => {
    await Promise.all(replicas.map((replica) => replica.close()));
    await upstream.close();
  });

  /** register on A, the page on A, confirm on B: the status of the confirm, and the claim on B if confirmed. */
  const acrossReplicas = async (): Promise<{ confirm: number; claim?: number }> => {
    const [a, b] = replicas as [Running, Running];
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    expect((await a.agent.post('/cookie-bridge/relay/register').send({ challenge, code: CODE })).status).toBe(
      201,
    );
    const page = await a.agent
      .get(`/token?state=${STATE}&relay=${challenge}`)
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', EMAIL);
    expect(page.status).toBe(200);
    const formToken = /name="form_token" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
    const confirmed = await b.agent
      .post('/token/relay')
      .set('Cookie', COOKIES)
      .set('X-Auth-Request-Email', EMAIL)
      .set('Sec-Fetch-Site', 'same-origin')
      .type('form')
      .send({ challenge, state: STATE, code: CODE, form_token: formToken });
    if (confirmed.status !== 200) return { confirm: confirmed.status };
    return {
      confirm: 200,
      claim: (await b.agent.post('/cookie-bridge/relay/claim').send({ verifier })).status,
    };
  };

  it("a form rendered by replica A is accepted by replica B: the store's formKey() wins over each relayFormKey", async () => {
    const shared = switchableStore(Buffer.alloc(32, 3)).store;
    await start([shared, shared], [Buffer.alloc(32, 1), Buffer.alloc(32, 2)]);
    expect(await acrossReplicas()).toEqual({ confirm: 200, claim: 200 });
  });

  it('without formKey() each replica has its own key, and B refuses the form A rendered (403)', async () => {
    const shared = switchableStore(null).store;
    await start([shared, shared]);
    expect(await acrossReplicas()).toEqual({ confirm: 403 });
  });
});

describe("the CLI's relay client against serve whose store is down", () => {
  let upstream: Running;
  let replica: Running;
  let fake: ReturnType<typeof switchableStore>;
  const http1 = createHttpClient();

  beforeEach(async () => {
    upstream = await listen((_req, res) => res.end('app'));
    fake = switchableStore();
    replica = await listen(createServeApp({ upstream: upstream.url, relayStore: fake.store }).app);
  });
  afterEach(async () => {
    await replica.close();
    await upstream.close();
  });

  it('registration answered 503 relay_store_unavailable is E_RELAY_STORE_UNAVAILABLE, not "busy"', async () => {
    fake.state.all = 'unavailable';
    const challenge = relayChallengeFor(newVerifier());
    const error = (await registerRelay(
      replica.url,
      { challenge, code: CODE },
      { request: http1.request },
    ).then(
      () => undefined,
      (thrown: unknown) => thrown,
    )) as { code?: string; exitCode?: number; message?: string; hint?: string } | undefined;
    expect(error).toMatchObject({ code: 'E_RELAY_STORE_UNAVAILABLE', exitCode: 6 });
    expect(error?.message).toContain('relay store is unavailable');
    expect(`${error?.message} ${error?.hint}`).not.toMatch(/busy/);
    expect(error?.hint).toMatch(/in a minute.*without --relay/);
  });

  it('the claim waits out an outage longer than maxConsecutiveErrors, says so once, and says when it is back', async () => {
    const verifier = newVerifier();
    const challenge = relayChallengeFor(verifier);
    await registerRelay(replica.url, { challenge, code: CODE }, { request: http1.request });
    const notices: string[] = [];
    let pauses = 0;
    const { signal } = new AbortController();
    const bundle = await pollRelay(replica.url, verifier, {
      signal,
      request: http1.request,
      maxConsecutiveErrors: 3,
      notice: (level, line) => notices.push(`${level}: ${line}`),
      // Each pause is where the outside world moves on: down after the first claim, back after 12 claims
      // (4 times maxConsecutiveErrors), then the person confirms.
      sleep: async () => {
        pauses += 1;
        if (pauses === 1) fake.state.all = 'unavailable';
        if (pauses === 13) fake.state.all = undefined;
        if (pauses === 14) {
          const page = await openPage(replica.agent, challenge);
          const formToken = /name="form_token" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
          expect((await confirm(replica.agent, challenge, formToken)).status).toBe(200);
        }
      },
    });
    expect(bundle.state).toBe(STATE);
    expect(pauses).toBe(14);
    expect(notices).toEqual([`warn: ${RELAY_STORE_OUTAGE_NOTICE}`, `info: ${RELAY_STORE_BACK_NOTICE}`]);
    expect(fake.state.calls.filter((call) => call === 'claim')).toHaveLength(15);
    // Fifteen claims on one signal leave no abort listener behind (Node warns from eleven on).
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });
});
