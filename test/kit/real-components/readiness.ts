import { request } from 'node:http';
import { createServer } from 'node:net';

import type { ChildHandle } from './child-process-handle';

/** Asks the kernel for a free port on 127.0.0.1 and releases it (the caller binds it shortly after). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address === null || typeof address === 'string') reject(new Error('no TCP address'));
        else resolve(address.port);
      });
    });
  });
}

/** One GET with no cookies; resolves the status code, rejects when nothing answers within `timeoutMs`. */
export function probeHttp(url: string, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'GET', headers: { accept: 'application/json' }, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/** The last `lines` lines of a text, for error messages. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export interface WaitForHttpOptions {
  /** Overall deadline; generous by default for a loaded 2-core CI machine. */
  timeoutMs?: number;
  intervalMs?: number;
  /** Gives up early, with the logs, when the component's process exits. */
  child?: ChildHandle;
  logs: () => string;
}

/**
 * Polls `url` until it answers with any HTTP status (a 302 or 401 from an auth proxy counts as ready).
 * Throws, with the tail of the component's logs, when the deadline passes or the process exits first.
 */
export async function waitForHttp(name: string, url: string, options: WaitForHttpOptions): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError = 'not tried';
  for (;;) {
    if (options.child?.hasExited()) {
      const exit = await options.child.exited;
      throw new Error(
        `${name} exited (code ${String(exit.code)}, signal ${String(exit.signal)}) before answering on ${url}\n` +
          tail(options.logs()),
      );
    }
    try {
      return await probeHttp(url, Math.min(2_000, Math.max(200, deadline - Date.now())));
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `${name} did not answer on ${url} within ${timeoutMs} ms (${lastError})\n${tail(options.logs())}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
