/**
 * `cookie-bridge proxy` (the built CLI, a process of its own so its memory is measured alone) streams 1 GiB
 * down to a reader slower than the API, and 1 GiB up to an API slower than the client: every byte arrives,
 * and the proxy's peak resident memory (VmHWM) grows by less than 100 MB, i.e. back-pressure holds end to
 * end instead of the proxy buffering what the slow side has not taken yet. Not a timing test.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { GIB_STREAM_TEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { cliEnv, makeTempHome, startCli, type RunningCli } from '../kit/cli-runner';
import { procStatusKb, readSlowly, writeBytes } from '../kit/slow-reader';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** The reader takes 4 MiB, then stops for 40 ms: well below what loopback and the API deliver. */
const SLOW = { pauseEveryBytes: 4 * MIB, pauseMs: 40 };
const RSS_GROWTH_LIMIT_KB = 100 * 1024;
const SESSION = 'slow-reader-session-5d1e';

function send(
  url: string,
  method: string,
  upload?: number,
): Promise<{ res: IncomingMessage; sent: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      agent: false,
      headers: upload === undefined ? {} : { 'content-length': String(upload) },
    });
    req.on('error', reject);
    const sent = upload === undefined ? new Promise<void>((done) => req.end(done)) : writeBytes(req, upload);
    req.on('response', (res) => resolve({ res, sent }));
  });
}

describe('cookie-bridge proxy: 1 GiB each way with a slow side, memory bounded', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let server: Server;
  let upstream: string;
  let cli: RunningCli | undefined;
  const seenCookies: Array<string | undefined> = [];

  beforeEach(async () => {
    temp = makeTempHome();
    server = createServer((req, res) => {
      seenCookies.push(req.headers.cookie);
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(GIB) });
        void writeBytes(res, GIB).catch(() => res.destroy());
      } else if (req.url === '/upload') {
        readSlowly(req, SLOW).then(
          (received) => res.end(JSON.stringify({ received })),
          () => res.destroy(),
        );
      } else res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const store = new FileCredentialStore({ home: path.join(temp.home, 'cookie-bridge') });
    await store.saveLogin(
      { endpoint: upstream, auth: { type: 'cookies' }, identity: 'slow@example.com', loggedInAt: 'x' },
      [{ name: 'session', value: SESSION }],
    );
  });
  afterEach(async () => {
    cli?.child.kill('SIGTERM');
    await cli?.result;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    temp.cleanup();
  });

  it(
    'streams every byte down to a slow reader and up to a slow API without buffering them',
    async () => {
      cli = startCli(['proxy', '-e', upstream], cliEnv(temp.home));
      const [, url] = await cli.waitForStderr(/cookie-bridge proxy: (http:\/\/127\.0\.0\.1:\d+)/);
      const pid = cli.child.pid!;
      // One small request first, so the code of the path is loaded before the baseline is taken.
      const warm = await send(`${url!}/small`, 'GET');
      await readSlowly(warm.res, SLOW);
      const baseline = procStatusKb(pid, 'VmHWM');

      const down = await send(`${url!}/big`, 'GET');
      expect(down.res.statusCode).toBe(200);
      expect(await readSlowly(down.res, SLOW)).toBe(GIB);
      const afterDownload = procStatusKb(pid, 'VmHWM');

      const up = await send(`${url!}/upload`, 'PUT', GIB);
      await up.sent;
      let answer = '';
      up.res.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      await new Promise((resolve) => up.res.on('end', resolve));
      expect(up.res.statusCode).toBe(200);
      expect(JSON.parse(answer)).toEqual({ received: GIB });
      const afterUpload = procStatusKb(pid, 'VmHWM');

      expect(seenCookies).toEqual([`session=${SESSION}`, `session=${SESSION}`, `session=${SESSION}`]);
      expect(afterDownload - baseline).toBeLessThan(RSS_GROWTH_LIMIT_KB);
      expect(afterUpload - baseline).toBeLessThan(RSS_GROWTH_LIMIT_KB);
    },
    GIB_STREAM_TEST_TIMEOUT_MS,
  );
});
