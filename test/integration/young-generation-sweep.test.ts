/**
 * The young-generation sweep is the CLI's, for its own process (src/cli/young-generation-sweep.ts): `proxy`
 * and `exec` acquire it through the CLI context's setV8Flags and pass it to the local proxy, which then
 * collects every 4 MiB of body, down and up; the library's default (what an SDK host gets) never collects.
 * Counted as V8 reports them: forced minor collections (perf_hooks 'gc' entries) in this process while
 * 32 MiB stream through a proxy running in it. Memory itself: test/e2e/proxy-bounded-memory.test.ts.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { HTTP_REQUEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import type { CliContext } from '../../src/cli/cli-context';
import { execCommand } from '../../src/cli/commands/exec-command';
import { proxyCommand } from '../../src/cli/commands/proxy-command';
import { createV8FlagSetter } from '../../src/cli/v8-flags';
import { SWEEP_EVERY_BYTES } from '../../src/cli/young-generation-sweep';
import { createTlsTrust } from '../../src/http/tls-options';
import { createLocalForwardingProxy } from '../../src/local-proxy/local-forwarding-proxy';
import { fakeContext, type FakeContext } from '../kit/fake-context';
import { pollUntil } from '../kit/poll-until';
import { acceptUpgrade, sendRequest, sendUpgrade, writeBytes } from '../kit/slow-reader';

const MIB = 1024 ** 2;
const BODY_BYTES = 32 * MIB;
/** Sweeps for 32 MiB: at most one per 4 MiB; each may overshoot its 4 MiB by one chunk (≤ 64 KiB). */
const MOST_SWEEPS = BODY_BYTES / SWEEP_EVERY_BYTES;
const FEWEST_SWEEPS = MOST_SWEEPS - 1;
const SESSION = 'sweep-session-7c2a';
const realSetV8Flags = createV8FlagSetter(undefined);

/** Forced minor collections seen since start; `settled()` once V8 has reported every one made so far. */
function watchForcedMinorCollections(): { settled(): Promise<number>; stop(): void } {
  let forced = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const { kind, flags } = (entry as unknown as { detail: { kind: number; flags: number } }).detail;
      if (
        kind === constants.NODE_PERFORMANCE_GC_MINOR &&
        (flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0
      )
        forced += 1;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    // One of our own, last: V8 reports collections in order, so once it is seen every earlier one is.
    settled: async () => {
      (runInNewContext('gc') as (options: { type: 'minor' }) => void)({ type: 'minor' });
      const target = forced + 1;
      await pollUntil('the marker collection reported', HTTP_REQUEST_TIMEOUT_MS, async () =>
        forced >= target ? true : undefined,
      );
      return forced - 1;
    },
    stop: () => observer.disconnect(),
  };
}

/** One request (sendRequest); resolves its body, or its length when it is over 1 KiB. */
async function send(
  url: string,
  method: string,
  upload?: number,
): Promise<{ res: IncomingMessage; body: string }> {
  const { res, sent } = await sendRequest(url, method, upload);
  let body = '';
  let length = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length <= 1024) body += chunk.toString('utf8');
  }
  await sent;
  return { res, body: length > 1024 ? String(length) : body };
}

/** What 32 MiB streamed with the sweep must have forced: one collection per 4 MiB. */
function expectOneSweepPer4MiB(sweeps: number): void {
  expect(sweeps).toBeGreaterThanOrEqual(FEWEST_SWEEPS);
  expect(sweeps).toBeLessThanOrEqual(MOST_SWEEPS);
}

/** `proxy` on `upstream`, running in this process; its URL (once printed) and a stop that waits for it. */
async function startProxyCommand(cli: CliContext & { stdout: { text: string } }, upstream: string) {
  let signal: (signal: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => (signal = resolve));
  const running = proxyCommand(cli, { endpoint: upstream }, () => stopped);
  const url = await pollUntil(
    'the proxy URL on stdout',
    HTTP_REQUEST_TIMEOUT_MS,
    async () => /^(http:\/\/127\.0\.0\.1:\d+)\n/.exec(cli.stdout.text)?.[1],
  );
  return {
    url,
    stop: async (): Promise<void> => {
      signal('SIGTERM');
      await running;
    },
  };
}

/**
 * The command's CLI context: the fake one, whose setV8Flags records each change and makes only --expose-gc
 * (the jest worker keeps its WebAssembly tiers).
 */
function cliContext(ctx: FakeContext, flags: string[]): CliContext & { stdout: { text: string } } {
  const stream = (): NodeJS.WriteStream & { text: string } => {
    const out = { text: '', write: (chunk: string) => ((out.text += chunk), true) };
    return out as unknown as NodeJS.WriteStream & { text: string };
  };
  return {
    ...ctx,
    stdin: process.stdin,
    stdout: stream(),
    stderr: stream(),
    debug: false,
    tls: createTlsTrust({ env: {} }),
    setV8Flags: (flag) => {
      flags.push(flag);
      if (flag === '--expose-gc') realSetV8Flags(flag);
    },
  };
}

describe('young-generation sweep: the CLI passes it, the library never collects by itself', () => {
  let server: Server;
  let upstream: string;
  let ctx: FakeContext;
  let gcs: ReturnType<typeof watchForcedMinorCollections>;

  beforeEach(async () => {
    server = createServer((req, res) => {
      if (req.headers.cookie !== `session=${SESSION}`) res.writeHead(401).end();
      else if (req.url === '/big') {
        res.writeHead(200, { 'content-length': String(BODY_BYTES) });
        void writeBytes(res, BODY_BYTES).catch(() => res.destroy());
      } else {
        let received = 0;
        req.on('data', (chunk: Buffer) => (received += chunk.length));
        req.on('end', () => res.end(JSON.stringify({ received })));
      }
    });
    // An upgraded connection: 32 MiB down, then it reads 32 MiB up and closes.
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      if (req.headers.cookie !== `session=${SESSION}`) {
        socket.destroy();
        return;
      }
      acceptUpgrade(socket);
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= BODY_BYTES) socket.end();
      });
      void writeBytes(socket, BODY_BYTES, { end: false }).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    upstream = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ctx = fakeContext();
    await ctx.store.saveLogin(
      { endpoint: upstream, auth: { type: 'cookies' }, identity: 'sweep@example.com', loggedInAt: 'x' },
      [{ name: 'session', value: SESSION }],
    );
    // gc exposed before anything streams: a library that reached for it would find it.
    realSetV8Flags('--expose-gc');
    gcs = watchForcedMinorCollections();
  });
  // V8's flags are the jest worker's: the next test file there starts without gc, as it would alone.
  afterAll(() => realSetV8Flags('--no-expose-gc'));
  afterEach(async () => {
    gcs.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('the library proxy (an SDK host) streams 32 MiB each way without forcing a collection', async () => {
    const proxy = await createLocalForwardingProxy({ endpoint: upstream, store: ctx.store, env: {} });
    try {
      const { url } = await proxy.listen();
      expect((await send(`${url}/big`, 'GET')).body).toBe(String(BODY_BYTES));
      expect(JSON.parse((await send(`${url}/upload`, 'PUT', BODY_BYTES)).body)).toEqual({
        received: BODY_BYTES,
      });
    } finally {
      await proxy.close();
    }
    expect(await gcs.settled()).toBe(0);
  });

  it('`proxy` passes the sweep: a collection every 4 MiB down and up', async () => {
    const flags: string[] = [];
    const { url, stop } = await startProxyCommand(cliContext(ctx, flags), upstream);
    try {
      expect((await send(`${url}/big`, 'GET')).body).toBe(String(BODY_BYTES));
      const down = await gcs.settled();
      expectOneSweepPer4MiB(down);
      expect(JSON.parse((await send(`${url}/upload`, 'PUT', BODY_BYTES)).body)).toEqual({
        received: BODY_BYTES,
      });
      // settled() counts its own marker out, but not the earlier one.
      const up = (await gcs.settled()) - down - 1;
      expectOneSweepPer4MiB(up);
    } finally {
      await stop();
    }
    expect(flags).toEqual(['--liftoff-only', '--expose-gc']);
  });

  it('`proxy` counts an upgraded connection’s bytes (a WebSocket) for the sweep, down and up', async () => {
    const flags: string[] = [];
    const { url, stop } = await startProxyCommand(cliContext(ctx, flags), upstream);
    let tunnel: Duplex | undefined;
    try {
      const { socket, head } = await sendUpgrade(`${url}/socket`);
      tunnel = socket;
      let down = head.length;
      const downDone = new Promise<void>((resolve) =>
        socket.on('data', (chunk: Buffer) => {
          down += chunk.length;
          if (down >= BODY_BYTES) resolve();
        }),
      );
      await downDone;
      expect(down).toBe(BODY_BYTES);
      const sweptDown = await gcs.settled();
      expectOneSweepPer4MiB(sweptDown);
      // Up: the upstream closes once all 32 MiB came through.
      const closed = new Promise((resolve) => socket.once('end', resolve));
      await writeBytes(socket, BODY_BYTES, { end: false });
      await closed;
      const sweptUp = (await gcs.settled()) - sweptDown - 1;
      expectOneSweepPer4MiB(sweptUp);
    } finally {
      // A tunnel left open would hold the proxy's stop.
      tunnel?.destroy();
      await stop();
    }
  });

  it('`exec` passes the sweep to the proxy its command talks to', async () => {
    const flags: string[] = [];
    const cli = cliContext(ctx, flags);
    // The command downloads the body through the proxy and exits 0 only when every byte came.
    const script = `require('node:http').get(process.env.COOKIE_BRIDGE_URL + '/big', (res) => {
      let n = 0; res.on('data', (c) => (n += c.length));
      res.on('end', () => process.exit(n === ${BODY_BYTES} ? 0 : 3));
    }).on('error', () => process.exit(4));`;
    const code = await execCommand(cli, [process.execPath, '-e', script], { endpoint: upstream });
    expect(code).toBe(0);
    const sweeps = await gcs.settled();
    expectOneSweepPer4MiB(sweeps);
    expect(flags).toEqual(['--liftoff-only', '--expose-gc']);
  });
});
