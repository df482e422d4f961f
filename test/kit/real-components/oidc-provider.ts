import { join } from 'node:path';

import { startChild } from './child-process-handle';
import { makeComponentDir, readLog, removeComponentDir } from './component-dir';
import { FIXTURES_DIR } from './config-template';
import { tail, waitForHttp } from './readiness';
import type { RunningComponent } from './running-component';

/** Client metadata as oidc-provider takes it (snake_case, as in OpenID Connect Dynamic Registration). */
export interface OidcClientMetadata {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  [key: string]: unknown;
}

export interface StartOidcProviderOptions {
  clients: OidcClientMetadata[];
  /** 0 or absent: a free port. */
  port?: number;
  startupTimeoutMs?: number;
}

export interface RunningOidcProvider extends RunningComponent {
  /** `http://127.0.0.1:<port>`, the same as `url`. */
  issuer: string;
}

export const OIDC_PROVIDER_FIXTURE = join(FIXTURES_DIR, 'oidc-provider.mjs');

/** Starts fixtures/oidc-provider.mjs as a child process and waits for its discovery document. */
export async function startOidcProvider(options: StartOidcProviderOptions): Promise<RunningOidcProvider> {
  const dir = makeComponentDir('oidc-provider');
  const logFile = join(dir, 'oidc-provider.log');
  const child = startChild({
    name: 'oidc-provider',
    command: process.execPath,
    args: [
      OIDC_PROVIDER_FIXTURE,
      '--port',
      String(options.port ?? 0),
      '--clients',
      JSON.stringify(options.clients),
    ],
    logFile,
  });
  const logs = (): string => child.output() || readLog(logFile);
  const stop = async (): Promise<void> => {
    await child.stop();
    removeComponentDir(dir);
  };
  const timeoutMs = options.startupTimeoutMs ?? 30_000;
  try {
    const issuer = await readIssuer(child.output, child.hasExited, timeoutMs);
    await waitForHttp('oidc-provider', `${issuer}/.well-known/openid-configuration`, {
      child,
      logs,
      timeoutMs,
    });
    return { url: issuer, issuer, port: Number(new URL(issuer).port), stop, logs };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Waits for the fixture's one JSON line `{"issuer": ...}` on stdout. */
async function readIssuer(
  output: () => string,
  hasExited: () => boolean,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of output().split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const parsed: unknown = JSON.parse(line);
        if (
          typeof parsed === 'object' &&
          parsed !== null &&
          'issuer' in parsed &&
          typeof parsed.issuer === 'string'
        ) {
          return parsed.issuer;
        }
      } catch {
        // Not the ready line (or not complete yet).
      }
    }
    if (hasExited()) throw new Error(`oidc-provider exited before it was ready\n${tail(output())}`);
    if (Date.now() >= deadline) {
      throw new Error(`oidc-provider printed no issuer within ${timeoutMs} ms\n${tail(output())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
