// The `unit` project's promise, checked: no sockets, no child processes, no temp folders. Node's built-in modules
// are shared by every test file a jest worker runs, so the wrappers are installed once per worker and only act
// while the guard is on (jest-setup.ts turns it on for each unit test file and off for every other file).
import childProcess from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';

interface GuardState {
  active: boolean;
}

const STATE_KEY = Symbol.for('cookie-bridge.purity-guard');

/** A function that throws while the guard is on, else calls `original`. */
function guarded(original: (...a: unknown[]) => unknown, name: string, what: string, state: GuardState) {
  return function guardedCall(this: unknown, ...args: unknown[]): unknown {
    if (state.active) {
      throw new Error(
        `a unit test ${what} (${name}); unit tests are pure (no disk, no network, no processes): ` +
          'move this test to test/integration',
      );
    }
    return original.apply(this, args);
  };
}

/** Replaces `holder[name]` (and its util.promisify form, as execFile has) by guarded versions. */
function guard(holder: object, name: string, what: string, state: GuardState): void {
  const target = holder as Record<string, unknown>;
  const original = target[name];
  if (typeof original !== 'function') return;
  const wrapper = guarded(original as (...a: unknown[]) => unknown, name, what, state) as unknown as Record<
    symbol,
    unknown
  >;
  const custom = (original as unknown as Record<symbol, unknown>)[promisify.custom];
  if (typeof custom === 'function') {
    wrapper[promisify.custom] = guarded(custom as (...a: unknown[]) => unknown, name, what, state);
  }
  target[name] = wrapper;
}

function installOnce(): GuardState {
  const shared = net as unknown as Record<symbol, GuardState | undefined>;
  const existing = shared[STATE_KEY];
  if (existing !== undefined) return existing;
  const state: GuardState = { active: false };
  shared[STATE_KEY] = state;
  guard(net.Server.prototype, 'listen', 'opened a listening socket', state);
  guard(net.Socket.prototype, 'connect', 'opened a network connection', state);
  for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
    guard(childProcess, name, 'started a process', state);
  }
  guard(fs, 'mkdtemp', 'made a temp folder', state);
  guard(fs, 'mkdtempSync', 'made a temp folder', state);
  guard(fs.promises, 'mkdtemp', 'made a temp folder', state);
  return state;
}

/** Turns the guard on or off for the test file about to run. */
export function setPurityGuard(active: boolean): void {
  // Installed only where a unit test runs, so workers that never run one keep Node's functions untouched.
  const shared = net as unknown as Record<symbol, GuardState | undefined>;
  if (!active && shared[STATE_KEY] === undefined) return;
  installOnce().active = active;
}
