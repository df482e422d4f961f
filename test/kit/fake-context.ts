import { createHash, randomUUID } from 'node:crypto';
import type { Context, Logger } from '../../src/context';
import { recordingLogger } from './in-process-login';
import { manualTimers, type ManualTimers } from './manual-timers';

/** The in-memory Context (src/context.ts) for tests: nothing touches the clock, the timers or the environment. */
export interface FakeContext extends Context {
  logger: Logger & { lines: string[] };
  timers: ManualTimers;
  /** Moves the fake clock on. */
  advance(ms: number): void;
}

/** 2026-11-22 12:00 UTC, the kit's usual "now". */
export const FAKE_NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

export function fakeContext(overrides: Partial<Pick<Context, 'env' | 'randomState'>> = {}): FakeContext {
  let now = FAKE_NOW;
  let drawn = 0;
  // Distinct per fake and per draw, so two fakes never share a state or a relay challenge; 43 base64url chars.
  const seed = randomUUID();
  return {
    logger: recordingLogger(),
    now: () => now,
    timers: manualTimers(),
    randomState: () =>
      createHash('sha256')
        .update(`${seed}:${(drawn += 1)}`)
        .digest('base64url'),
    env: {},
    advance: (ms) => {
      now += ms;
    },
    ...overrides,
  };
}
