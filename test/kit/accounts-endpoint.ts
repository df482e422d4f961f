/**
 * An endpoint as users of the admin commands have one: a cookie auth proxy in front of the real
 * `createServeApp` with the real account service (`createAccountService` over a state dir in a temp folder),
 * in front of the kit's recording app, all on 127.0.0.1 port 0 in the test's process.
 * The proxy part is the smallest that behaves like oauth2-proxy for these calls: a `_oauth2_proxy` session
 * cookie (opaque, rotated on every request like a refreshing proxy: the old value stops working, so a client
 * that does not save the new one is signed out) becomes the identity header; a request without a live session
 * gets oauth2-proxy's answer to a JSON client, 401 `{}`; a client-sent identity header is dropped; a bearer
 * token goes through to serve, which checks it itself. `serviceAccounts: false` is serve without
 * --service-accounts: the admin paths then reach the app.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServeApp } from '../../src/server/create-serve-app';
import { createAccountService } from '../../src/server/accounts/account-service';
import { createFileAccountStateStore } from '../../src/server/accounts/file-account-state-store';
import { startRecordingApp, type RecordingApp } from './recording-app';

const IDENTITY_HEADER = 'x-auth-request-email';
const SESSION_COOKIE = '_oauth2_proxy';
/** The tokens' `iss`: a name only, never contacted (serve answers its discovery routes itself). */
const ISSUER = 'https://api.example.test/cookie-bridge/sa';

export interface AccountsEndpointOptions {
  /** serve --admin. */
  admins: string[];
  /** false: serve without --service-accounts. */
  serviceAccounts?: boolean;
}

export interface AccountsEndpoint {
  url: string;
  /** A new signed-in session for `identity`: the session cookie's value. */
  signIn(identity: string): string;
  /** Every session ends (the proxy's cookies expired). */
  endSessions(): void;
  /** Every request that reached the endpoint (the proxy): method and path. */
  requests: Array<{ method: string; path: string }>;
  /** The app's own log: what serve forwarded. */
  app: RecordingApp;
  close(): Promise<void>;
}

export async function startAccountsEndpoint(options: AccountsEndpointOptions): Promise<AccountsEndpoint> {
  const app = await startRecordingApp();
  const stateDir = mkdtempSync(path.join(tmpdir(), 'cookie-bridge-accounts-'));
  const accounts =
    options.serviceAccounts === false
      ? undefined
      : createAccountService({
          issuer: ISSUER,
          admins: options.admins,
          store: createFileAccountStateStore({ dir: path.join(stateDir, 'state') }),
        });
  const serve = createServeApp({
    upstream: app.url,
    admins: options.admins,
    ...(accounts === undefined ? {} : { accounts }),
  });
  const sessions = new Map<string, string>();
  const requests: AccountsEndpoint['requests'] = [];
  const newSession = (identity: string): string => {
    const id = randomBytes(18).toString('base64url');
    sessions.set(id, identity);
    return id;
  };

  const proxy = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '?', path: (req.url ?? '').split('?')[0] ?? '' });
    delete req.headers[IDENTITY_HEADER];
    if (!/^Bearer /i.test(req.headers.authorization ?? '')) {
      const session = readCookie(req.headers.cookie, SESSION_COOKIE);
      const identity = session === undefined ? undefined : sessions.get(session);
      if (session === undefined || identity === undefined) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{}');
        return;
      }
      sessions.delete(session);
      res.setHeader(
        'set-cookie',
        `${SESSION_COOKIE}=${newSession(identity)}; Path=/; HttpOnly; Max-Age=3600`,
      );
      req.headers[IDENTITY_HEADER] = identity;
    }
    serve.app(req, res);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    signIn: newSession,
    endSessions: () => sessions.clear(),
    requests,
    app,
    close: async () => {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      await app.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}
