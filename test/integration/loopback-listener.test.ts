import * as http from 'node:http';
import * as net from 'node:net';
import type { Logger } from '../../src/context';
import { encodeCookieBundle } from '../../src/protocol/bundle-codec';
import { PortInUseError } from '../../src/errors';
import { startLoopbackListener, type LoopbackListener } from '../../src/login/loopback-listener';

const ORIGIN = 'https://api.example.test';
const STATE = 'state-0123456789abcdefghij';
const SECRET = 'SeCrEtCoOkIeVaLuE42';
const GOOD = encodeCookieBundle({ cookies: [{ name: '_oauth2_proxy', value: SECRET }], state: STATE });

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface RequestSpec {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  body?: string;
}

function request(port: number, spec: RequestSpec): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: spec.host ?? '127.0.0.1',
        port,
        method: spec.method ?? 'POST',
        path: spec.path ?? '/callback',
        headers: spec.headers ?? {},
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(spec.body);
  });
}

const form = (fields: Record<string, string>): RequestSpec => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
  body: new URLSearchParams(fields).toString(),
});

const json = (value: unknown, contentType = 'application/json'): RequestSpec => ({
  headers: { 'content-type': contentType, origin: ORIGIN },
  body: JSON.stringify(value),
});

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (message: string): void => {
    lines.push(message);
  };
  return { lines, debug: push, info: push, warn: push };
}

/** Tracks whether `bundle` settled, without waiting on time. */
function watch(listener: LoopbackListener): { settled: () => boolean } {
  let settled = false;
  listener.bundle.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { settled: () => settled };
}

function connectionRefused(port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

const open: LoopbackListener[] = [];
async function start(
  options: Partial<Parameters<typeof startLoopbackListener>[0]> = {},
): Promise<LoopbackListener> {
  const listener = await startLoopbackListener({ endpointOrigin: ORIGIN, state: STATE, ...options });
  open.push(listener);
  return listener;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((listener) => listener.close()));
});

describe('startLoopbackListener', () => {
  test('takes a form POST, answers with the signed-in page, then stops listening', async () => {
    const listener = await start();
    expect(listener.callbackUrl).toBe(`http://127.0.0.1:${listener.port}/callback`);

    const reply = await request(listener.port, form({ bundle: GOOD, state: STATE }));
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.body).toContain('Signed in — you can close this tab and return to the terminal');

    const bundle = await listener.bundle;
    expect(bundle).toEqual({
      format: 'cookie-bridge-v1',
      state: STATE,
      cookies: [{ name: '_oauth2_proxy', value: SECRET }],
    });
    expect(await connectionRefused(listener.port)).toBe('ECONNREFUSED');
  });

  test('answers the CORS and Private Network Access preflight for the endpoint, then takes a JSON fetch', async () => {
    const listener = await start();
    const preflight = await request(listener.port, {
      method: 'OPTIONS',
      headers: {
        origin: ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
        'access-control-request-private-network': 'true',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(preflight.headers['access-control-allow-private-network']).toBe('true');
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']?.toLowerCase()).toContain('content-type');
    expect(preflight.headers.vary).toContain('Origin');

    const reply = await request(listener.port, json({ bundle: GOOD, state: STATE }));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ ok: true });
    expect(reply.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(reply.headers.vary).toContain('Origin');
    expect((await listener.bundle).cookies).toEqual([{ name: '_oauth2_proxy', value: SECRET }]);
  });

  test('takes a JSON body sent as text/plain (a CORS-simple fetch)', async () => {
    const listener = await start();
    const reply = await request(
      listener.port,
      json({ bundle: GOOD, state: STATE }, 'text/plain;charset=UTF-8'),
    );
    expect(reply.status).toBe(200);
    expect(reply.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect((await listener.bundle).state).toBe(STATE);
  });

  test('refuses a preflight from another origin or without one', async () => {
    const listener = await start();
    for (const origin of ['https://evil.example', 'null']) {
      const reply = await request(listener.port, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-private-network': 'true',
        },
      });
      expect(reply.status).toBe(403);
      expect(reply.headers['access-control-allow-origin']).toBeUndefined();
      expect(reply.headers['access-control-allow-private-network']).toBeUndefined();
    }
    const withoutOrigin = await request(listener.port, { method: 'OPTIONS' });
    expect(withoutOrigin.status).toBe(403);
  });

  describe("SkyPilot's stateless protocol", () => {
    const skypilotBundle = Buffer.from(
      JSON.stringify({ v: 1, user: 'ann', cookies: { _oauth2_proxy: SECRET } }),
    ).toString('base64');
    const legacyPost = (origin: string | undefined): RequestSpec => ({
      path: '/',
      headers: { 'content-type': 'text/plain;charset=UTF-8', ...(origin === undefined ? {} : { origin }) },
      body: skypilotBundle,
    });

    test('is refused by default, handed to onStatelessBundle, and the wait goes on', async () => {
      const offered: Array<{ origin: string; user: string | undefined }> = [];
      const listener = await start({
        onStatelessBundle: ({ bundle, origin }) => offered.push({ origin, user: bundle.user }),
      });
      const watched = watch(listener);
      const reply = await request(listener.port, legacyPost(ORIGIN));
      expect(reply.status).toBe(403);
      expect(reply.body).not.toContain(SECRET);
      expect(watched.settled()).toBe(false);
      expect(offered).toEqual([{ origin: ORIGIN, user: 'ann' }]);

      // The wait goes on: the stateful hand-off still logs in.
      expect((await request(listener.port, form({ bundle: GOOD, state: STATE }))).status).toBe(200);
      expect((await listener.bundle).cookies[0]?.value).toBe(SECRET);
    });

    test("a cb1 bundle carrying this login's state is taken on / without --accept-stateless", async () => {
      const listener = await start();
      expect((await request(listener.port, { ...legacyPost(ORIGIN), body: GOOD })).status).toBe(200);
      expect((await listener.bundle).state).toBe(STATE);
    });

    test('with acceptStateless: taken only with the endpoint as Origin', async () => {
      const offered: unknown[] = [];
      const listener = await start({ acceptStateless: true, onStatelessBundle: (a) => offered.push(a) });
      const watched = watch(listener);
      expect((await request(listener.port, legacyPost(undefined))).status).toBe(403);
      expect((await request(listener.port, legacyPost('https://evil.example'))).status).toBe(403);
      expect((await request(listener.port, legacyPost('null'))).status).toBe(403);
      expect(watched.settled()).toBe(false);

      expect((await request(listener.port, legacyPost(ORIGIN))).status).toBe(200);
      expect(await listener.bundle).toEqual({
        format: 'skypilot-v1',
        user: 'ann',
        cookies: [{ name: '_oauth2_proxy', value: SECRET }],
      });
      expect(offered).toEqual([]);
    });

    test('still checks the state inside a cb1 bundle', async () => {
      const listener = await start({ acceptStateless: true });
      const watched = watch(listener);
      const other = encodeCookieBundle({ cookies: [{ name: 'a', value: 'b' }], state: 'another-login' });
      const reply = await request(listener.port, { ...legacyPost(ORIGIN), body: other });
      expect(reply.status).toBe(403);
      expect(watched.settled()).toBe(false);
    });
  });

  describe('refusals leave the wait going', () => {
    const foreignBundle = encodeCookieBundle({
      cookies: [{ name: 'a', value: 'b' }],
      state: 'someone-elses-login',
    });
    const cases: Array<[string, RequestSpec, number]> = [
      ['wrong state', form({ bundle: GOOD, state: 'state-0123456789abcdefghiX' }), 403],
      ['missing state', form({ bundle: GOOD }), 403],
      ['JSON without state', json({ bundle: GOOD }), 403],
      ['state inside the bundle differs', form({ bundle: foreignBundle, state: STATE }), 403],
      [
        'foreign Origin',
        { ...form({ bundle: GOOD, state: STATE }), headers: { origin: 'https://evil.example' } },
        403,
      ],
      [
        'opaque Origin (null)',
        {
          ...form({ bundle: GOOD, state: STATE }),
          headers: { origin: 'null', 'content-type': 'application/x-www-form-urlencoded' },
        },
        403,
      ],
      ['favicon', { method: 'GET', path: '/favicon.ico' }, 404],
      ['GET /callback', { method: 'GET' }, 405],
      ['undecodable bundle', form({ bundle: `cb1.${SECRET}!`, state: STATE }), 400],
      ['bundle without cookies', form({ bundle: 'e30=', state: STATE }), 400],
      ['no bundle', form({ state: STATE }), 400],
      [
        'JSON that is not JSON',
        { headers: { 'content-type': 'application/json', origin: ORIGIN }, body: '{bundle' },
        400,
      ],
      [
        'unsupported content type',
        { headers: { 'content-type': 'application/xml', origin: ORIGIN }, body: '<x/>' },
        415,
      ],
      [
        'form post without Origin',
        {
          ...form({ bundle: GOOD, state: STATE }),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        403,
      ],
      [
        'JSON without Origin',
        { ...json({ bundle: GOOD, state: STATE }), headers: { 'content-type': 'application/json' } },
        403,
      ],
      [
        'foreign Host (DNS rebinding)',
        {
          ...form({ bundle: GOOD, state: STATE }),
          host: '127.0.0.1',
          headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        },
        400,
      ],
    ];

    test.each(cases)('%s', async (_name, spec, status) => {
      const logger = recordingLogger();
      const listener = await start({ logger });
      const watched = watch(listener);

      const reply = await request(listener.port, spec);
      expect(reply.status).toBe(status);
      expect(reply.body).not.toContain(SECRET);
      expect(watched.settled()).toBe(false);
      expect(logger.lines.some((line) => line.includes(`(${status})`))).toBe(true);

      expect((await request(listener.port, form({ bundle: GOOD, state: STATE }))).status).toBe(200);
      expect((await listener.bundle).cookies[0]?.value).toBe(SECRET);
      expect(logger.lines.join('\n')).not.toContain(SECRET);
      expect(logger.lines.join('\n')).not.toContain(GOOD);
    });

    test('a declared body over the cap: 413 before reading it, and the connection is dropped', async () => {
      const listener = await start({ maxBodyBytes: 1024 });
      const watched = watch(listener);
      const outcome = await new Promise<{ status: number; closed: boolean }>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port: listener.port,
          method: 'POST',
          path: '/callback',
          agent: false,
          headers: {
            origin: ORIGIN,
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': '4096',
          },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => {
            const socket = req.socket;
            if (socket === null || socket.destroyed) resolve({ status: res.statusCode ?? 0, closed: true });
            else socket.once('close', () => resolve({ status: res.statusCode ?? 0, closed: true }));
          });
        });
        req.on('error', reject);
        req.flushHeaders();
      });
      expect(outcome).toEqual({ status: 413, closed: true });
      expect(watched.settled()).toBe(false);
      expect((await request(listener.port, form({ bundle: GOOD, state: STATE }))).status).toBe(200);
      await expect(listener.bundle).resolves.toMatchObject({ state: STATE });
    });

    test('a streamed body over the cap stops being read (413 or a reset)', async () => {
      const listener = await start({ maxBodyBytes: 1024 });
      const watched = watch(listener);
      const outcome = await new Promise<string>((resolve) => {
        const req = http.request({
          host: '127.0.0.1',
          port: listener.port,
          method: 'POST',
          path: '/callback',
          agent: false,
          headers: {
            origin: ORIGIN,
            'content-type': 'application/x-www-form-urlencoded',
            'transfer-encoding': 'chunked',
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(String(res.statusCode));
        });
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
        // Never ends: a server that waited for the end would never answer.
        req.write(`bundle=${'x'.repeat(8192)}`);
      });
      expect(['413', 'ECONNRESET', 'EPIPE']).toContain(outcome);
      expect(watched.settled()).toBe(false);
      expect((await request(listener.port, form({ bundle: GOOD, state: STATE }))).status).toBe(200);
      await expect(listener.bundle).resolves.toMatchObject({ state: STATE });
    });

    test('a body that does not arrive in time gets 408 (slow loris)', async () => {
      const listener = await start({ bodyTimeoutMs: 100 });
      const watched = watch(listener);
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port: listener.port,
          method: 'POST',
          path: '/callback',
          agent: false,
          headers: {
            origin: ORIGIN,
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': '500',
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write('bundle=cb1.');
      });
      expect(status).toBe(408);
      expect(watched.settled()).toBe(false);
      expect((await request(listener.port, form({ bundle: GOOD, state: STATE }))).status).toBe(200);
      await expect(listener.bundle).resolves.toMatchObject({ state: STATE });
    });
  });

  test('a taken port is a PortInUseError that names it', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const failure = startLoopbackListener({ endpointOrigin: ORIGIN, state: STATE, port });
      await expect(failure).rejects.toBeInstanceOf(PortInUseError);
      await expect(failure).rejects.toMatchObject({
        port,
        code: 'E_PORT_IN_USE',
        message: expect.stringContaining(String(port)),
      });
      await expect(failure).rejects.toMatchObject({ hint: expect.stringContaining('--port') });
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  test('listens on the port it was asked for', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const listener = await start({ port });
    expect(listener.port).toBe(port);
  });

  test('close() before a bundle arrives rejects the wait and stops listening', async () => {
    const listener = await startLoopbackListener({ endpointOrigin: ORIGIN, state: STATE });
    await listener.close();
    await expect(listener.bundle).rejects.toMatchObject({ code: 'E_LISTENER_CLOSED' });
    expect(await connectionRefused(listener.port)).toBe('ECONNREFUSED');
    await listener.close();
  });

  test('answers on ::1 as well when the machine has IPv6 loopback', async () => {
    const probe = net.createServer();
    const ipv6 = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => resolve(true));
    });
    if (ipv6) await new Promise<void>((resolve) => probe.close(() => resolve()));
    const listener = await start();
    if (!ipv6) return; // no IPv6 loopback on this machine: nothing to check
    const reply = await request(listener.port, { ...form({ bundle: GOOD, state: STATE }), host: '::1' });
    expect(reply.status).toBe(200);
    await expect(listener.bundle).resolves.toMatchObject({ state: STATE });
    expect(await connectionRefused(listener.port, '::1')).toBe('ECONNREFUSED');
  });
});

describe('refusal answers (src/http/refusal.ts, shared with the local proxy and the server)', () => {
  // Before issue 10 the JSON answer was {ok:false,status,error:<message>}; now every listener of ours answers
  // {error:<stable code>,message}. The /token page reads only the status (response.ok).
  test('a JSON request gets {error: code, message}, with CORS for the endpoint', async () => {
    const listener = await start();
    const reply = await request(listener.port, json({ bundle: GOOD, state: 'state-0123456789abcdefghiX' }));
    expect(reply.status).toBe(403);
    expect(reply.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(JSON.parse(reply.body)).toEqual({
      error: 'state_mismatch',
      message: 'the state does not belong to the login this terminal started.',
    });
  });

  test('a browser gets a page that escapes the message and says the terminal still waits', async () => {
    const listener = await start();
    const reply = await request(listener.port, {
      method: 'GET',
      path: '/callback',
      headers: { origin: ORIGIN },
    });
    expect(reply.status).toBe(405);
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
    expect(reply.body).toContain('<title>cookie-bridge: 405</title>');
    expect(reply.body).toContain(
      'GET is not accepted here. The terminal is still waiting for the login; nothing was saved.',
    );
  });
});
