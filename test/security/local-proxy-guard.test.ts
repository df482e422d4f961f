/**
 * `cookie-bridge proxy` (the built CLI) against requests a web page could make: DNS-rebinding Host
 * values, foreign Origins, Sec-Fetch-Site cross-site/same-site, absolute-form targets, on plain HTTP and on
 * WebSocket upgrades. None may be forwarded: the upstream counts every request and upgrade it sees, and a
 * well-formed local request is forwarded (so the count is known to work). With --secret, requests without
 * the secret are refused too. Guards src/local-proxy/request-guard.ts as wired in local-forwarding-proxy.ts.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { cliEnv, makeTempHome, runCli, startCli, type RunningCli } from '../kit/cli-runner';
import { leakedSecret } from '../kit/hostile-kit';

const TOKEN = 'svc-token-proxy-guard-3b7d91e0a54c';

let upstream: http.Server;
const seen = { requests: 0, upgrades: 0, authorized: 0 };
let endpoint: string;
let temp: ReturnType<typeof makeTempHome>;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    if (req.url !== '/api/health') seen.requests += 1;
    if (req.headers.authorization === `Bearer ${TOKEN}`) seen.authorized += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ status: 'ok', user: 'robot@example.com' }));
  });
  upstream.on('upgrade', (_req, socket: net.Socket) => {
    seen.upgrades += 1;
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  temp = makeTempHome('cb-proxy-guard-');
  env = cliEnv(temp.home);
  expect((await runCli(['api', 'login', '-e', endpoint, '--token', TOKEN], env)).code).toBe(0);
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  temp.cleanup();
});

/** Starts `cookie-bridge proxy`; resolves with its port and the lines it printed on stdout. */
async function startProxy(args: string[] = []): Promise<{ cli: RunningCli; port: number; lines: string[] }> {
  const cli = startCli(['proxy', '--debug', ...args], env);
  let out = '';
  const expected = args.includes('--secret') ? 2 : 1;
  while (out.split('\n').length <= expected) {
    const [chunk] = (await once(cli.child.stdout, 'data')) as [Buffer];
    out += chunk.toString('utf8');
  }
  const lines = out.trim().split('\n');
  return { cli, port: Number(new URL(lines[0]!).port), lines };
}

async function stopProxy(cli: RunningCli): Promise<string> {
  cli.child.kill('SIGTERM');
  const result = await cli.result;
  expect(result.code).toBe(0);
  return result.stderr;
}

/** Writes a raw request (so Host and the target can be anything) and resolves with the status line. */
function rawStatus(port: number, head: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.write(`${head}\r\nConnection: close\r\n\r\n`);
  });
}

const UPGRADE =
  'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';

describe('refused requests are never forwarded', () => {
  it('DNS rebinding, foreign origins and cross-site fetches, over HTTP and WebSocket upgrades', async () => {
    const { cli, port } = await startProxy(['-e', endpoint]);
    const local = `Host: 127.0.0.1:${port}`;
    const attacks: Array<[string, RegExp]> = [
      // DNS rebinding: the page's own host name, resolved to 127.0.0.1.
      ['GET /api/x HTTP/1.1\r\nHost: evil.example', /421/],
      [`GET /api/x HTTP/1.1\r\nHost: evil.example:${port}`, /421/],
      [`GET /api/x HTTP/1.1\r\nHost: 127.0.0.1.evil.example:${port}`, /421/],
      [`GET /api/x HTTP/1.1\r\nHost: localhost.evil.example:${port}`, /421/],
      [`GET /api/x HTTP/1.1\r\nHost: 0.0.0.0:${port}`, /421/],
      [`GET /api/x HTTP/1.1\r\nHost: 127.0.0.1:${port + 1}`, /421/],
      ['GET /api/x HTTP/1.0', /400|421/],
      // Pages of other origins (fetch with no-cors, form posts): Origin or Sec-Fetch-Site gives them away.
      [`GET /api/x HTTP/1.1\r\n${local}\r\nOrigin: http://evil.example`, /403/],
      [`POST /api/x HTTP/1.1\r\n${local}\r\nOrigin: null\r\nContent-Length: 0`, /403/],
      [`GET /api/x HTTP/1.1\r\n${local}\r\nOrigin: http://127.0.0.1:${port + 1}`, /403/],
      [`GET /api/x HTTP/1.1\r\n${local}\r\nSec-Fetch-Site: cross-site`, /403/],
      [`GET /api/x HTTP/1.1\r\n${local}\r\nSec-Fetch-Site: same-site`, /403/],
      // Absolute-form: would make it an open forward proxy.
      [`GET http://evil.example/steal HTTP/1.1\r\n${local}`, /400/],
      [`CONNECT evil.example:443 HTTP/1.1\r\n${local}`, /400|405|^$/],
    ];
    const before = { ...seen };
    for (const [head, status] of attacks) {
      expect([head, await rawStatus(port, head)]).toEqual([head, expect.stringMatching(status)]);
      const upgradeHead = head.replace(/^GET|^POST/, 'GET').replace(/\r\nContent-Length: 0/, '');
      if (!upgradeHead.startsWith('GET')) continue;
      expect([upgradeHead, await rawStatus(port, `${upgradeHead}\r\n${UPGRADE}`)]).toEqual([
        upgradeHead,
        expect.stringMatching(status),
      ]);
    }
    expect(seen).toEqual(before); // nothing reached the upstream

    // The same requests from a local tool are forwarded, with the credential (the counts work).
    expect(await rawStatus(port, `GET /api/x HTTP/1.1\r\n${local}`)).toMatch(/200/);
    expect(
      await rawStatus(
        port,
        `GET /api/x HTTP/1.1\r\nHost: localhost:${port}\r\nOrigin: http://localhost:${port}`,
      ),
    ).toMatch(/200/);
    expect(await rawStatus(port, `GET /ws HTTP/1.1\r\n${local}\r\n${UPGRADE}`)).toMatch(/400/); // upstream's own answer
    expect(seen.requests).toBe(before.requests + 2);
    expect(seen.authorized).toBe(before.authorized + 2);
    expect(seen.upgrades).toBe(before.upgrades + 1);

    const stderr = await stopProxy(cli);
    expect(leakedSecret(stderr, [TOKEN])).toBeUndefined();
  });

  it('--secret: requests without it, or with a wrong one, are refused and not forwarded', async () => {
    const { cli, port, lines } = await startProxy(['-e', endpoint, '--secret']);
    const header = lines[1]!;
    expect(header).toMatch(/^X-Cookie-Bridge-Secret: [A-Za-z0-9_-]{43}$/);
    const local = `GET /api/x HTTP/1.1\r\nHost: 127.0.0.1:${port}`;
    const before = { ...seen };
    expect(await rawStatus(port, local)).toMatch(/401/);
    expect(await rawStatus(port, `${local}\r\nX-Cookie-Bridge-Secret: ${'A'.repeat(43)}`)).toMatch(/403/);
    expect(await rawStatus(port, `${local}\r\n${UPGRADE}`)).toMatch(/401/);
    expect(seen).toEqual(before);
    expect(await rawStatus(port, `${local}\r\n${header}`)).toMatch(/200/);
    expect(seen.requests).toBe(before.requests + 1);
    const stderr = await stopProxy(cli);
    // The secret goes to stdout only, once; never into --debug output.
    expect(stderr).not.toContain(header.split(': ')[1]!);
  });
});
