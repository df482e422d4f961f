/**
 * `cookie-bridge proxy` (the built CLI, a process of its own so its memory is measured alone) streams 1 GiB
 * down to a reader slower than the API, and 1 GiB up to an API slower than the client: every byte arrives,
 * and the proxy's peak resident memory (VmHWM) grows by less than 24 MB over its warm start each way, i.e.
 * back-pressure holds end to end instead of the proxy buffering what the slow side has not taken yet, and
 * what the data path allocates is given back as it goes: the young-generation sweep the CLI passes the
 * proxy (src/cli/young-generation-sweep.ts) frees the socket reads' buffers every 4 MiB, and undici's
 * parser stays on V8's baseline compiler (start-local-proxy.ts). Without both it grew by 41–48 MB (down
 * and up; with only one of them 34–38 MB down), with them by ~9 MB. The same holds for 1 GiB down an
 * upgraded connection (a WebSocket tunnel): ~37 MB before its bytes counted for the sweep, ~9 MB since.
 * Each test has a proxy process of its own, so each peak is its own. Not a timing test.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import * as path from 'node:path';
import { GIB_STREAM_TEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { cliEnv, makeTempHome, startCli, type RunningCli } from '../kit/cli-runner';
import {
  acceptUpgrade,
  procStatusKb,
  readSlowly,
  sendRequest,
  sendUpgrade,
  writeBytes,
} from '../kit/slow-reader';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
/** The reader takes 4 MiB, then stops for 40 ms: well below what loopback and the API deliver. */
const SLOW = { pauseEveryBytes: 4 * MIB, pauseMs: 40 };
/** The peak's growth over the warm start: ~9 MB each way now, 41–48 MB before (see above). */
const RSS_GROWTH_LIMIT_KB = 24 * 1024;
const SESSION = 'slow-reader-session-5d1e';

describe('cookie-bridge proxy: 1 GiB each way with a slow side, memory bounded', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let server: Server;
  let upstream: string;
  let cli: RunningCli | undefined;
  const seenCookies: Array<string | undefined> = [];

  beforeEach(async () => {
    seenCookies.length = 0;
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
    // An upgrade (a WebSocket, as far as the proxy can tell) whose first message is 1 GiB long.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      seenCookies.push(req.headers.cookie);
      acceptUpgrade(socket);
      void writeBytes(socket, GIB).catch(() => socket.destroy());
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

  /** The proxy on the upstream, warmed by one small request; its pid and VmHWM then (the baseline). */
  async function startWarmProxy(): Promise<{ url: string; pid: number; baseline: number }> {
    cli = startCli(['proxy', '-e', upstream], cliEnv(temp.home));
    const [, url] = await cli.waitForStderr(/cookie-bridge proxy: (http:\/\/127\.0\.0\.1:\d+)/);
    const pid = cli.child.pid!;
    // One small request first, so the code of the path is loaded before the baseline is taken.
    const warm = await sendRequest(`${url!}/small`, 'GET');
    await readSlowly(warm.res, SLOW);
    return { url: url!, pid, baseline: procStatusKb(pid, 'VmHWM') };
  }

  it(
    'streams every byte down to a slow reader without buffering them or keeping what it read',
    async () => {
      const { url, pid, baseline } = await startWarmProxy();

      const down = await sendRequest(`${url}/big`, 'GET');
      expect(down.res.statusCode).toBe(200);
      expect(await readSlowly(down.res, SLOW)).toBe(GIB);
      const growth = procStatusKb(pid, 'VmHWM') - baseline;
      expect(seenCookies).toEqual([`session=${SESSION}`, `session=${SESSION}`]);
      expect(growth).toBeLessThan(RSS_GROWTH_LIMIT_KB);
    },
    GIB_STREAM_TEST_TIMEOUT_MS,
  );

  it(
    'streams every byte up to a slow API without buffering them or keeping what it read',
    async () => {
      const { url, pid, baseline } = await startWarmProxy();

      const up = await sendRequest(`${url}/upload`, 'PUT', GIB);
      await up.sent;
      let answer = '';
      up.res.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
      await new Promise((resolve) => up.res.on('end', resolve));
      expect(up.res.statusCode).toBe(200);
      expect(JSON.parse(answer)).toEqual({ received: GIB });
      const growth = procStatusKb(pid, 'VmHWM') - baseline;
      expect(seenCookies).toEqual([`session=${SESSION}`, `session=${SESSION}`]);
      expect(growth).toBeLessThan(RSS_GROWTH_LIMIT_KB);
    },
    GIB_STREAM_TEST_TIMEOUT_MS,
  );

  it(
    'streams every byte of an upgraded connection (a WebSocket) down to a slow reader, keeping none of it',
    async () => {
      const { url, pid, baseline } = await startWarmProxy();

      const tunnel = await sendUpgrade(`${url}/socket`);
      // What came with the 101 (the head) counts, then the rest read slowly.
      expect(tunnel.head.length + (await readSlowly(tunnel.socket, SLOW))).toBe(GIB);
      const growth = procStatusKb(pid, 'VmHWM') - baseline;
      expect(seenCookies).toEqual([`session=${SESSION}`, `session=${SESSION}`]);
      // Before the tunnel's bytes counted for the sweep it grew by ~37 MB; now ~9 MB.
      expect(growth).toBeLessThan(RSS_GROWTH_LIMIT_KB);
    },
    GIB_STREAM_TEST_TIMEOUT_MS,
  );
});
