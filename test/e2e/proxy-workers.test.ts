/**
 * `cookie-bridge proxy --workers 2` (the built CLI): two processes serve one port with the secret, a
 * session cookie the API refreshes through one worker is sent by both from the next request on (the jar
 * stays consistent across workers), and SIGTERM stops the primary and every worker with exit 0.
 */
import * as fs from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { cliEnv, makeTempHome, runCli, startCli, type RunningCli } from '../kit/cli-runner';

function get(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // agent: false, a new connection each time: the cluster hands connections to the workers in turn
    request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

/** The processes whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('cookie-bridge proxy --workers', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let server: Server;
  let upstream: string;
  let cli: RunningCli | undefined;
  const seen: Array<{ path: string; cookie: string | undefined; secret: string | undefined }> = [];

  beforeEach(async () => {
    temp = makeTempHome();
    seen.length = 0;
    server = createServer((req, res) => {
      seen.push({
        path: req.url ?? '',
        cookie: req.headers.cookie,
        secret: req.headers['x-cookie-bridge-secret'] as string | undefined,
      });
      if (req.url === '/rotate') res.setHeader('set-cookie', 'session=v2; Path=/; HttpOnly');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ cookie: req.headers.cookie ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const store = new FileCredentialStore({ home: path.join(temp.home, 'cookie-bridge') });
    await store.saveLogin(
      { endpoint: upstream, auth: { type: 'cookies' }, identity: 'multi@example.com', loggedInAt: 'x' },
      [{ name: 'session', value: 'v1' }],
    );
  });
  afterEach(async () => {
    // After a failed assertion the proxy is still running: stop it (its workers follow).
    if (cli !== undefined && cli.child.exitCode === null) cli.child.kill('SIGTERM');
    await cli?.result;
    cli = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    temp.cleanup();
  });

  it('serves one port from two workers, keeps their jar consistent and stops them all on SIGTERM', async () => {
    cli = startCli(['proxy', '-e', upstream, '--workers', '2', '--secret'], cliEnv(temp.home));
    const running = cli;
    // stdout: the URL, then the secret header (read from the start, before anything else is awaited)
    const stdout = new Promise<string>((resolve) => {
      let text = '';
      running.child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.split('\n').length >= 3) resolve(text);
      });
    });
    const [, url] = await running.waitForStderr(
      /cookie-bridge proxy: (http:\/\/127\.0\.0\.1:\d+) → \S+ \(as multi@example\.com\) \(2 workers\)/,
    );
    await running.waitForStderr(/press Ctrl-C/);
    const secret = /^X-Cookie-Bridge-Secret: (\S+)$/m.exec(await stdout)?.[1] ?? '';
    expect(secret).toHaveLength(43);
    const pid = running.child.pid!;
    const workers = childrenOf(pid);
    expect(workers).toHaveLength(2);

    expect((await get(`${url!}/x`, {})).status).toBe(401);
    const auth = { 'x-cookie-bridge-secret': secret };
    for (let i = 0; i < 6; i += 1) {
      expect(await get(`${url!}/items`, auth)).toEqual({ status: 200, body: '{"cookie":"session=v1"}' });
    }
    expect((await get(`${url!}/rotate`, auth)).status).toBe(200);
    for (let i = 0; i < 6; i += 1) {
      expect(await get(`${url!}/items`, auth)).toEqual({ status: 200, body: '{"cookie":"session=v2"}' });
    }
    expect(seen.every((request) => request.secret === undefined)).toBe(true);

    running.child.kill('SIGTERM');
    const result = await running.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('cookie-bridge proxy: stopped');
    expect(result.stdout + result.stderr).not.toContain('session=v');
    for (const worker of workers) expect(fs.existsSync(`/proc/${worker}`)).toBe(false);
  });

  it('exits 8 when the port is taken, and refuses a bad --workers', async () => {
    const taken = (server.address() as AddressInfo).port;
    const inUse = await runCli(
      ['proxy', '-e', upstream, '--workers', '2', '--port', String(taken)],
      cliEnv(temp.home),
    );
    expect(inUse.code).toBe(8);
    expect(inUse.stderr).toContain(`port ${taken}`);
    const bad = await runCli(['proxy', '-e', upstream, '--workers', '0'], cliEnv(temp.home));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--workers must be a whole number from 1 to 64');
  });
});
