import { createHash, randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { AppContext, Logger } from '../../src/context';
import { createHttpClient, type HttpClient } from '../../src/http/http-request';
import { recordingLogger } from './in-process-login';
import { manualTimers, type ManualTimers } from './manual-timers';
import { MemoryCredentialStore } from './memory-credential-store';

/**
 * The in-memory AppContext (src/context.ts) for tests: nothing touches the real clock, the timers, the
 * environment, the disk or a browser. `http` is the real client (tests talk to throwaway servers on loopback);
 * pass another to record or refuse requests.
 */
export interface FakeContext extends AppContext<MemoryCredentialStore, HttpClient> {
  logger: Logger & { lines: string[] };
  timers: ManualTimers;
  /** Opens nothing: records the URL and resolves. */
  openBrowser: ((url: string) => Promise<void>) & {
    opened: string[];
    /** The next URL opened (one opened before the call is returned at once). */
    next(): Promise<string>;
  };
  /** What a person would type: write to it (end it for "nothing typed"). */
  stdin: PassThrough;
  /** Moves the fake clock on. */
  advance(ms: number): void;
}

/** 2026-11-22 12:00 UTC, the kit's usual "now". */
export const FAKE_NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

export function fakeContext(
  overrides: Partial<Pick<FakeContext, 'env' | 'randomState' | 'http'>> = {},
): FakeContext {
  let now = FAKE_NOW;
  let drawn = 0;
  // Distinct per fake and per draw, so two fakes never share a state or a relay challenge; 43 base64url chars.
  const seed = randomUUID();
  const opened: string[] = [];
  const unseen: string[] = [];
  const waiting: Array<(url: string) => void> = [];
  const clock = (): number => now;
  return {
    logger: recordingLogger(),
    now: clock,
    timers: manualTimers(),
    randomState: () =>
      createHash('sha256')
        .update(`${seed}:${(drawn += 1)}`)
        .digest('base64url'),
    env: {},
    store: new MemoryCredentialStore(clock),
    http: createHttpClient(),
    openBrowser: Object.assign(
      async (url: string) => {
        opened.push(url);
        const taker = waiting.shift();
        if (taker === undefined) unseen.push(url);
        else taker(url);
      },
      {
        opened,
        next: () => {
          const url = unseen.shift();
          return url === undefined
            ? new Promise<string>((resolve) => waiting.push(resolve))
            : Promise.resolve(url);
        },
      },
    ),
    stdin: new PassThrough(),
    advance: (ms) => {
      now += ms;
    },
    ...overrides,
  };
}
