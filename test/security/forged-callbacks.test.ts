/**
 * Forged hand-offs to the loopback listener while a real `api login --no-browser` (the built CLI, against
 * the oauth2-proxy look-alike + demo API) waits. Every forgery must be refused with an error answer, the
 * CLI must keep waiting, and the real bundle that follows (the scripted browser opening the printed URL)
 * must still log in. Protections guarded (src/login/loopback-listener.ts): the state check, the Origin
 * check, the Host check, the body size limit, per-request isolation of slow or broken clients, and the
 * redaction of --debug output.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { encodeCookieBundle } from '../../src/protocol/bundle-codec';
import { cliEnv, makeTempHome, runCli, startCli } from '../kit/cli-runner';
import { bundleFromTokenPage, cookiesOf, statelessBundle } from '../kit/in-process-login';
import {
  filesUnder,
  leakedSecret,
  rawRequest,
  SCRIPTED_BROWSER_JS,
  startProtectedStack,
  storedSecrets,
  type ProtectedStack,
} from '../kit/hostile-kit';

const execFileAsync = promisify(execFile);
const FORGED_VALUE = 'FORGED-session-value-5f0c1d2e3a4b';
const EVIL_ORIGIN = 'http://evil.example';

let stack: ProtectedStack;
let temp: ReturnType<typeof makeTempHome>;
beforeAll(async () => {
  stack = await startProtectedStack({ sessionPadding: 100 });
  temp = makeTempHome('cb-forged-');
});
afterAll(async () => {
  await stack.close();
  temp.cleanup();
});

function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

function forgedBundle(state?: string): string {
  return encodeCookieBundle({
    cookies: [{ name: '_oauth2_proxy', value: FORGED_VALUE }],
    ...(state === undefined ? {} : { state }),
    user: 'mallory@example.com',
  });
}

/** Sends raw bytes on a fresh connection; resolves with everything the server answered before closing. */
function rawBytes(port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(bytes);
  });
}

it('refuses every forgery, keeps waiting, then logs in with the real bundle', async () => {
  const env = cliEnv(temp.home);
  const cli = startCli(
    ['api', 'login', '-e', stack.endpoint, '--no-browser', '--timeout', '120', '--debug'],
    env,
  );
  const [url] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
  const tokenUrl = new URL(url);
  const port = Number(tokenUrl.searchParams.get('local_port'));
  const state = tokenUrl.searchParams.get('state')!;
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    rawRequest(port, {
      method: 'POST',
      path: '/callback',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: stack.endpoint, ...headers },
      body,
    });

  // Slow-loris clients first: they hold connections open for the whole test (guards: one slow client
  // does not block the listener; they are dropped when the login ends).
  const loris = Array.from({ length: 20 }, () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `POST /callback HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nOrigin: ${stack.endpoint}\r\n` +
        'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000\r\n\r\nbundle=cb1.',
    );
    return closed;
  });

  // Guards the state check: a bundle with another login's state, and the form field, both wrong.
  const wrongState = await post(form({ bundle: forgedBundle('x'.repeat(43)), state: 'x'.repeat(43) }));
  expect(wrongState.status).toBe(403);
  // Guards the state check: no state at all (neither in the form nor in the bundle).
  const noState = await post(form({ bundle: forgedBundle() }));
  expect(noState.status).toBe(403);
  // Guards the bundle's own state check: right form field, bundle minted for another login.
  const bundleOfOtherLogin = await post(form({ bundle: forgedBundle('y'.repeat(43)), state }));
  expect(bundleOfOtherLogin.status).toBe(403);
  // Guards the Origin check: even WITH the right state, a foreign page may not hand over a bundle,
  // and the answer does not open CORS to it.
  const foreign = await post(form({ bundle: forgedBundle(state), state }), { origin: EVIL_ORIGIN });
  expect(foreign.status).toBe(403);
  expect(foreign.headers?.['access-control-allow-origin']).toBeUndefined();
  const opaque = await post(form({ bundle: forgedBundle(state), state }), { origin: 'null' });
  expect(opaque.status).toBe(403);
  // Guards the Origin check on CORS preflights.
  const preflight = await rawRequest(port, {
    method: 'OPTIONS',
    path: '/callback',
    headers: { origin: EVIL_ORIGIN, 'access-control-request-method': 'POST' },
  });
  expect(preflight.status).toBe(403);
  expect(preflight.headers?.['access-control-allow-origin']).toBeUndefined();
  // Guards the Host check (DNS rebinding: a page on evil.example resolved to 127.0.0.1).
  const rebound = await post(form({ bundle: forgedBundle(state), state }), {
    host: `evil.example:${port}`,
    origin: `http://evil.example:${port}`,
  });
  expect(rebound.status).toBe(400);
  // Guards the Origin rule: every callback POST carries the endpoint's Origin; none is refused even
  // with the right state (a local process is not a browser).
  const noOrigin = await rawRequest(port, {
    method: 'POST',
    path: '/callback',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ bundle: forgedBundle(state), state }),
  });
  expect(noOrigin.status).toBe(403);
  const noOriginJson = await rawRequest(port, {
    method: 'POST',
    path: '/callback',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bundle: forgedBundle(state), state }),
  });
  expect(noOriginJson.status).toBe(403);
  // Guards the stateless legacy path: without Origin, and (issue 8) even WITH the endpoint's forged
  // Origin, a bundle without state is refused by default, however often it comes (stdin is not a
  // terminal: never asked), and it does not end the wait.
  const legacy = await rawRequest(port, {
    method: 'POST',
    path: '/',
    headers: { 'content-type': 'text/plain' },
    body: Buffer.from(JSON.stringify({ _oauth2_proxy: FORGED_VALUE })).toString('base64'),
  });
  expect(legacy.status).toBe(403);
  for (const body of [
    Buffer.from(JSON.stringify({ _oauth2_proxy: FORGED_VALUE })).toString('base64'),
    statelessBundle({ _oauth2_proxy: FORGED_VALUE }, 'mallory@example.com'),
    forgedBundle(),
  ]) {
    const forgedOrigin = await rawRequest(port, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: stack.endpoint },
      body,
    });
    expect(forgedOrigin.status).toBe(403);
  }
  // Guards the body limit: 1 MiB, declared and chunked.
  const declared = await post(Buffer.alloc(1024 * 1024, 'a'));
  expect(declared.status).toBe(413);
  const chunked = await rawRequest(port, {
    method: 'POST',
    path: '/callback',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      origin: stack.endpoint,
      'transfer-encoding': 'chunked',
    },
    body: Buffer.alloc(1024 * 1024, 'b'),
  });
  expect(chunked.status).toBe(413);
  // Guards the JSON and form parsers: binary garbage as a body, and as the whole request.
  const garbageBody = await post(randomBytes(4096));
  expect(garbageBody.status).toBeGreaterThanOrEqual(400);
  const garbageJson = await post(randomBytes(4096), { 'content-type': 'application/json' });
  expect(garbageJson.status).toBe(400);
  const garbageRequest = await rawBytes(port, Buffer.concat([randomBytes(2048), Buffer.from('\r\n\r\n')]));
  expect(garbageRequest).toMatch(/^HTTP\/1\.1 400|^$/);
  // Wrong method and path.
  expect((await rawRequest(port, { path: '/callback' })).status).toBe(405);
  expect((await rawRequest(port, { path: '/admin', method: 'POST' })).status).toBe(404);
  // 200 forged posts at once (guessing the state): all refused.
  const storm = await Promise.all(
    Array.from({ length: 200 }, () =>
      post(form({ bundle: forgedBundle(), state: randomBytes(32).toString('base64url') })),
    ),
  );
  expect(storm.map((answer) => answer.status ?? 'dropped')).toEqual(Array(200).fill(403));

  // The CLI is still waiting (guards: a refusal never ends the login), and said once what arrived.
  expect(cli.child.exitCode).toBeNull();
  expect(cli.stderrSoFar()).not.toMatch(/Logged in|error:/);
  const statelessWarnings = cli.stderrSoFar().match(/^warning: a bundle without state arrived from .*$/gm);
  expect(statelessWarnings).toEqual([
    `warning: a bundle without state arrived from ${stack.endpoint}; if this server's /token page is an ` +
      'older one, run again with --accept-stateless (or paste the bundle from the page here)',
  ]);

  // The real browser hand-off still works.
  await execFileAsync(process.execPath, [SCRIPTED_BROWSER_JS, url], {
    env: { ...process.env, SCRIPTED_BROWSER_EMAIL: 'carol@example.com' },
  });
  const result = await cli.result;
  expect(result.stderr).toContain(`Logged in to ${stack.endpoint} as carol@example.com`);
  expect(result.code).toBe(0);
  await Promise.all(loris); // the slow clients were dropped when the listener closed

  // Nothing forged was stored; the stored session works.
  const home = path.join(temp.home, 'cookie-bridge');
  const jar = filesUnder(home).find((file) => file.endsWith('cookies.json'))!;
  expect(readFileSync(jar, 'utf8')).not.toContain(FORGED_VALUE);
  const whoami = await runCli(['request', '/api/whoami', '--debug'], env);
  expect(whoami.code).toBe(0);
  expect(JSON.parse(whoami.stdout)).toEqual({ user: 'carol@example.com' });

  // --debug showed refusals, but no cookie value, forged or real, and not the state.
  expect(result.stderr).toMatch(/loopback: refused POST \/callback \(403\)/);
  const secrets = [...storedSecrets(home), FORGED_VALUE];
  expect(leakedSecret(result.stdout + result.stderr + whoami.stderr, secrets)).toBeUndefined();
});

describe("bundles without state (SkyPilot's older /token pages)", () => {
  const startLogin = (extra: string[], stdin: 'pipe' | 'close' = 'close') => {
    const env = cliEnv(temp.home);
    const cli = startCli(
      ['api', 'login', '-e', stack.endpoint, '--no-browser', '--timeout', '120', '--json', ...extra],
      env,
      { stdin },
    );
    return { cli, env };
  };
  const postStateless = (port: number, body: string) =>
    rawRequest(port, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: stack.endpoint },
      body,
    });

  it("--accept-stateless takes one (and the identity printed is the server's, not the bundle's)", async () => {
    const { cli } = startLogin(['--accept-stateless']);
    const [url] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
    const port = Number(new URL(url).searchParams.get('local_port'));
    const real = cookiesOf(await bundleFromTokenPage(url, { SCRIPTED_BROWSER_EMAIL: 'dave@example.com' }));
    expect((await postStateless(port, statelessBundle(real, 'ceo@corp.example'))).status).toBe(200);
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Logged in to ${stack.endpoint} as dave@example.com`);
    expect(JSON.parse(result.stdout)).toMatchObject({ via: 'browser', identity: 'dave@example.com' });
    expect(result.stdout + result.stderr).not.toContain('ceo@corp.example');
  });

  it('a pasted one is taken without the flag (the person pasted it)', async () => {
    const { cli } = startLogin([], 'pipe');
    const [url] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
    const real = cookiesOf(await bundleFromTokenPage(url, { SCRIPTED_BROWSER_EMAIL: 'erin@example.com' }));
    cli.child.stdin.end(`${statelessBundle(real, 'ceo@corp.example')}\n`);
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ via: 'paste', identity: 'erin@example.com' });
    expect(result.stderr).not.toMatch(/without state arrived/);
  });
});

describe('the identity printed comes from the server, never from the bundle', () => {
  let server: http.Server;
  let endpoint: string;
  let healthUser: unknown;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const body =
        req.url === '/api/health' ? JSON.stringify({ status: 'ok', user: healthUser }) : '{"error":"nope"}';
      res.writeHead(req.url === '/api/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const CLAIMING_CEO = statelessBundle({ session: 'pasted-session-value' }, 'ceo@corp.example');
  it.each<[string, unknown, string, string | null]>([
    ['names alice', 'alice@example.com', 'as alice@example.com', 'alice@example.com'],
    ["says Apache's (null)", '(null)', '(identity unknown)', null],
    ['says null', null, '(identity unknown)', null],
    ['says ""', '', '(identity unknown)', null],
  ])('server %s', async (_name, user, printed, json) => {
    healthUser = user;
    const home = makeTempHome('cb-identity-');
    try {
      const result = await runCli(
        ['api', 'login', '-e', endpoint, '--cookies', '--no-browser', '--json', '--timeout', '60'],
        cliEnv(home.home),
        `${CLAIMING_CEO}\n`,
      );
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(`Logged in to ${endpoint} ${printed}`);
      expect(JSON.parse(result.stdout)).toMatchObject({ method: 'cookies', via: 'paste', identity: json });
      expect(result.stdout + result.stderr).not.toContain('ceo@corp.example');
      const info = await runCli(['api', 'info', '--json'], cliEnv(home.home));
      expect(info.stdout).not.toContain('ceo@corp.example');
    } finally {
      home.cleanup();
    }
  });
});

describe('in a real terminal (a pseudo-terminal, util-linux script)', () => {
  it('shows what arrived, and "y" typed there takes a bundle without state; the identity is the server\'s', async () => {
    const home = makeTempHome('cb-terminal-');
    const cli = startCli(
      ['api', 'login', '-e', stack.endpoint, '--no-browser', '--timeout', '120'],
      cliEnv(home.home),
      { stdin: 'pipe', terminal: true },
    );
    try {
      const [url] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
      const port = Number(new URL(url).searchParams.get('local_port'));
      const real = cookiesOf(await bundleFromTokenPage(url, { SCRIPTED_BROWSER_EMAIL: 'gina@example.com' }));
      const posted = await rawRequest(port, {
        method: 'POST',
        path: '/',
        headers: { 'content-type': 'text/plain;charset=UTF-8', origin: stack.endpoint },
        body: statelessBundle(real, 'ceo@corp.example'),
      });
      expect(posted.status).toBe(403);
      await cli.waitForStderr(/Take it\? Type y/);
      cli.child.stdin.write('y\r');
      await cli.waitForStderr(/Logged in to \S+ as gina@example\.com/);
      cli.child.stdin.end();
      const result = await cli.result;
      expect(result.code).toBe(0);
      const screen = cli.stderrSoFar();
      expect(screen).toContain(`A bundle WITHOUT state arrived from ${stack.endpoint}.`);
      expect(screen).toContain('cookies:      _oauth2_proxy');
      expect(screen).toContain('claims to be: ceo@corp.example');
      expect(screen).not.toMatch(/as ceo@corp\.example/);
      expect(leakedSecret(screen, Object.values(real))).toBeUndefined();
    } finally {
      cli.child.stdin.end();
      home.cleanup();
    }
  });
});
