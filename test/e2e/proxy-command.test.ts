/**
 * `cookie-bridge proxy` as the built CLI: prints its URL (and the secret header) on stdout, the banner
 * on stderr, forwards with the stored credential, exits 0 on SIGTERM and 8 when the port is taken.
 */
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { cliEnv, makeTempHome, runCli, startCli } from '../kit/cli-runner';

const TOKEN = 'svc-token-77aa1c';

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('cookie-bridge proxy', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let server: Server;
  let upstream: string;
  let seen: IncomingHttpHeaders | undefined;

  beforeEach(async () => {
    temp = makeTempHome();
    server = createServer((req, res) => {
      seen = req.headers;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ user: req.headers.authorization === `Bearer ${TOKEN}` ? 'robot' : null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const store = new FileCredentialStore({ home: path.join(temp.home, 'cookie-bridge') });
    await store.saveLogin({
      endpoint: upstream,
      auth: { type: 'token', token: TOKEN },
      identity: 'robot',
      loggedInAt: 'x',
    });
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    temp.cleanup();
  });

  it('serves the endpoint with the credential, requires the secret, and stops cleanly on SIGTERM', async () => {
    const cli = startCli(['proxy', '-e', upstream, '--secret'], cliEnv(temp.home));
    // stdout: the URL, then the secret header (read from the start, before anything else is awaited)
    const stdoutLines = new Promise<string[]>((resolve) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        const lines = text.split('\n');
        if (lines.length >= 3) {
          cli.child.stdout.off('data', onData);
          resolve(lines.slice(0, 2));
        }
      };
      cli.child.stdout.on('data', onData);
    });
    const [, url] = await cli.waitForStderr(
      /cookie-bridge proxy: (http:\/\/127\.0\.0\.1:\d+) → (\S+) \(as robot\)/,
    );
    await cli.waitForStderr(/press Ctrl-C/);
    const [urlLine, secretLine] = await stdoutLines;
    expect(urlLine).toBe(url);
    const match = /^X-Cookie-Bridge-Secret: ([A-Za-z0-9_-]{43})$/.exec(secretLine ?? '');
    expect(match).not.toBeNull();
    expect(cli.stderrSoFar()).not.toContain(match![1]);

    expect((await get(`${url!}/api/x`)).status).toBe(401);
    expect(seen).toBeUndefined();
    const ok = await get(`${url!}/api/x`, {
      'x-cookie-bridge-secret': match![1]!,
      authorization: 'Bearer mine',
    });
    expect(ok).toEqual({ status: 200, body: JSON.stringify({ user: 'robot' }) });
    expect(seen?.['x-cookie-bridge-secret']).toBeUndefined();

    cli.child.kill('SIGTERM');
    const result = await cli.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('cookie-bridge proxy: stopped');
    expect(result.stdout + result.stderr).not.toContain(TOKEN);
  });

  it('exits 8 when the port is taken, and 3 when not logged in', async () => {
    const taken = (server.address() as AddressInfo).port;
    const inUse = await runCli(['proxy', '-e', upstream, '--port', String(taken)], cliEnv(temp.home));
    expect(inUse.code).toBe(8);
    expect(inUse.stderr).toContain(`port ${taken}`);
    const none = await runCli(['proxy', '-e', 'http://127.0.0.1:9'], cliEnv(temp.home));
    expect(none.code).toBe(3);
  });
});
