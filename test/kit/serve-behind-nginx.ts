import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { startOAuth2ProxyLookalike, type OAuth2ProxyLookalike } from '../../fixtures/oauth2-proxy-lookalike';
import type { Logger } from '../../src/context';
import { createServeApp } from '../../src/server/create-serve-app';
import type { RelayStore } from '../../src/server/relay-store';
import { startRecordingApp, type AppPage, type RecordingApp } from './recording-app';
import { startNginxAuthRequest } from '../../fixtures/real-components/nginx-auth-request';
import type { RunningComponent } from '../../fixtures/real-components/running-component';

export interface ServeBehindNginx {
  /** What users open: real nginx (auth_request to the oauth2-proxy look-alike), the relay prefix exempt. */
  endpoint: string;
  app: RecordingApp;
  /** createServeApp's log lines, "level: message". */
  serveLog: string[];
  relayStore: RelayStore;
  lookalike: OAuth2ProxyLookalike;
  nginx: RunningComponent;
  close(): Promise<void>;
}

export interface StartServeBehindNginxOptions {
  /** Pages the app serves (by path); every other path answers {"app":true}. */
  pages?: Record<string, AppPage>;
  relayStore?: RelayStore;
  sessionCookies?: string[];
  /** nginx serves HTTPS with this certificate of a test CA (createTestCa), and session cookies are Secure. */
  tls?: { certFile: string; keyFile: string; caPem?: string };
}

/**
 * The documented nginx recipe (docs/serve.md: auth_request, /cookie-bridge/relay/ exempt) in front of
 * createServeApp (in this process, its log captured) in front of a logged app, all on 127.0.0.1.
 */
export async function startServeBehindNginx(
  options: StartServeBehindNginxOptions = {},
): Promise<ServeBehindNginx> {
  const app = await startRecordingApp({ pages: options.pages ?? {} });
  const serveLog: string[] = [];
  const logger: Logger = {
    debug: (message) => serveLog.push(`debug: ${message}`),
    info: (message) => serveLog.push(`info: ${message}`),
    warn: (message) => serveLog.push(`warn: ${message}`),
  };
  const serve = createServeApp({
    upstream: app.url,
    logger,
    ...(options.relayStore === undefined ? {} : { relayStore: options.relayStore }),
    ...(options.sessionCookies === undefined ? {} : { sessionCookies: options.sessionCookies }),
  });
  const server = http.createServer(serve.app);
  server.on('upgrade', serve.upgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const serveUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closeAll: Array<() => Promise<void>> = [() => closeServer(server), () => app.close()];
  const close = async (): Promise<void> => {
    for (const step of closeAll.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const lookalike = await startOAuth2ProxyLookalike({
      upstream: serveUrl,
      ...(options.tls === undefined ? {} : { cookieSecure: true }),
    });
    closeAll.push(() => lookalike.close());
    const nginx = await startNginxAuthRequest({
      oauth2ProxyUrl: lookalike.url,
      upstream: serveUrl,
      exemptPaths: ['/cookie-bridge/relay/'],
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
    closeAll.push(() => nginx.stop());
    return { endpoint: nginx.url, app, serveLog, relayStore: serve.relayStore, lookalike, nginx, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Opens `url` in `page`; when the look-alike's sign-in form shows, signs in as `email` and waits until the
 * browser is back at `url`. Returns the final navigation's status.
 */
export async function signInAtLookalike(page: Page, url: string, email: string): Promise<number | undefined> {
  const first = await page.goto(url, { waitUntil: 'domcontentloaded' });
  const field = page.locator('form[action$="/oauth2/callback"] input[name="email"]');
  if ((await field.count()) === 0) return first?.status();
  await field.fill(email);
  const [back] = await Promise.all([
    page.waitForResponse((response) => response.url() === url && response.request().isNavigationRequest()),
    page.click('form[action$="/oauth2/callback"] [type="submit"]'),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return back.status();
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
