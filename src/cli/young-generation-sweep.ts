import { runInNewContext } from 'node:vm';
import type { YoungGenerationSweep } from '../context';
import type { SetV8Flags } from './v8-flags';

/**
 * How many bytes of body between two young-generation collections. 4 MiB: `request`'s peak RSS for 1 GiB
 * ~100 → ~70 MB; the proxy's 101–113 → 92–94 MB alone, ~64 MB with its parser on the baseline compiler
 * (start-local-proxy.ts); no slower (a collection takes well under 1 ms when nearly everything is garbage).
 */
export const SWEEP_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * The young-generation sweep for the CLI's own process (see YoungGenerationSweep, src/context.ts), the one
 * place the CLI acquires V8's `gc`: exposed by a flag change, then read from a fresh context (the flag adds
 * it to contexts created afterwards). `request`, `proxy` and `exec` use it; with `proxy --workers N` each
 * worker acquires its own. Undefined when the running V8 refuses the flag: only the sweep is lost.
 */
export function youngGenerationSweep(setV8Flags: SetV8Flags): YoungGenerationSweep | undefined {
  setV8Flags('--expose-gc');
  const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
  if (typeof gc !== 'function') return undefined;
  const collectMinor = gc as (options: { type: 'minor' }) => void;
  return { everyBytes: SWEEP_EVERY_BYTES, collect: () => collectMinor({ type: 'minor' }) };
}
