/**
 * `cookie-bridge request` streams a 1 GiB body to a reader slower than the API: every byte arrives in
 * order, and the CLI's peak resident memory (VmHWM) grows by less than 100 MB once it is running, i.e.
 * nothing between the socket and stdout holds the body (back-pressure reaches the API). Not timed.
 */
import { spawn } from 'node:child_process';
import { startDemoApi } from '../../fixtures/demo-api';
import { GIB_STREAM_TEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { CLI_PATH, cliEnv, makeTempHome, runCli } from '../kit/cli-runner';
import { procStatusKb, readSlowly } from '../kit/slow-reader';

const GIB = 1024 ** 3;
const RSS_GROWTH_LIMIT_KB = 100 * 1024;
/** 16 ms every 8 MiB: far slower than the API over loopback, so the pipe and the socket fill up. */
const SLOW = { pauseEveryBytes: 8 * 1024 * 1024, pauseMs: 16 };
/** How often the CLI's VmHWM is read while the body streams. */
const SAMPLE_EVERY_BYTES = 32 * 1024 * 1024;

describe('request: 1 GiB to a slow reader', () => {
  it(
    'every byte arrives in order and the CLI stays within 100 MB of its start',
    async () => {
      const api = await startDemoApi();
      const temp = makeTempHome();
      try {
        const env = cliEnv(temp.home);
        const login = await runCli(['api', 'login', '-e', api.url], env);
        expect(login.code).toBe(0);

        const child = spawn(process.execPath, [CLI_PATH, 'request', `/api/bytes?size=${GIB}`], { env });
        const pid = child.pid as number;
        // The status line is printed at the response head, before the body: the CLI has loaded all it needs.
        let baseline: number | undefined;
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (baseline === undefined && stderr.includes('\n')) baseline = procStatusKb(pid, 'VmHWM');
        });
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

        // The demo API sends byte i = i % 256: the first byte of every chunk shows none was lost or reordered.
        let offset = 0;
        let misplaced = 0;
        let peak = 0;
        let nextSample = 0;
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk[0] !== offset % 256) misplaced += 1;
          offset += chunk.length;
          if (offset >= nextSample) {
            nextSample += SAMPLE_EVERY_BYTES;
            // Read while the CLI surely runs: it cannot exit before the rest of the body is read.
            peak = procStatusKb(pid, 'VmHWM');
          }
        });
        const received = await readSlowly(child.stdout, SLOW);
        const code = await exited;

        expect(stderr).toBe('HTTP 200 OK\n');
        expect(code).toBe(0);
        expect(received).toBe(GIB);
        expect(misplaced).toBe(0);
        expect(baseline).toBeDefined();
        expect(peak).toBeGreaterThan(0);
        expect(peak - (baseline as number)).toBeLessThan(RSS_GROWTH_LIMIT_KB);
      } finally {
        await api.close();
        temp.cleanup();
      }
    },
    GIB_STREAM_TEST_TIMEOUT_MS,
  );
});
