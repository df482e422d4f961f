/**
 * `npm run demo`: the whole cookie-bridge picture on loopback, in one process tree:
 *
 *   browser ──▶ oauth2-proxy look-alike (signs in at a real OpenID provider) ──▶ cookie-bridge serve ──▶ demo app
 *
 * It prints the `cookie-bridge api login -e …` command to run in another terminal and stops cleanly on Ctrl-C.
 *   node dist/scripts/demo.js [--port 4180]     (0 = any free port)
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { parseArgs } from 'node:util';
import { startDemoApi } from '../fixtures/demo-api';
import { startOAuth2ProxyLookalike } from '../fixtures/oauth2-proxy-lookalike';
import { startOidcProvider } from '../fixtures/real-components/oidc-provider';
import { createServeApp } from '../src/server/create-serve-app';

const DEFAULT_PROXY_PORT = 4180;
const CLIENT_ID = 'cookie-bridge-demo';

type Stop = () => Promise<void>;

/**
 * What the demo started or is starting. A service is registered before it is awaited, so a failure or a
 * Ctrl-C in the middle of the start still stops everything that came up (or comes up later).
 */
class DemoServices {
  private readonly starting: Array<Promise<Stop | undefined>> = [];

  /** Registers a starting service and resolves what it resolves; `stopOf` says how to stop it. */
  start<T>(started: Promise<T>, stopOf: (service: T) => Stop): Promise<T> {
    this.starting.push(started.then(stopOf, () => undefined));
    return started;
  }

  /** Stops every service that started, the last started first; waits for the ones still starting. */
  async stopAll(): Promise<void> {
    const stops = await Promise.all(this.starting.splice(0));
    for (const stop of stops.reverse()) await stop?.().catch(() => undefined);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: String(DEFAULT_PROXY_PORT) } },
  });
  const services = new DemoServices();
  let stopping: Promise<void> | undefined;
  const stopAndExit = (code: number): void => {
    stopping ??= services.stopAll().finally(() => process.exit(code));
  };
  const onSignal = (): void => {
    process.stderr.write('\nStopping the demo stack…\n');
    stopAndExit(0);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // The proxy's port is bound now and handed to the proxy later, so the redirect URI registered at the
    // provider names a port nobody else can take in between.
    const proxySocket = await services.start(
      bindProxyPort(Number(values.port)),
      (server) => () => closeNet(server),
    );
    const proxyOrigin = `http://127.0.0.1:${(proxySocket.address() as AddressInfo).port}`;
    const clientSecret = randomBytes(24).toString('base64url');

    // Independent services start in parallel.
    const [provider, app] = await Promise.all([
      services.start(
        startOidcProvider({
          clients: [
            {
              client_id: CLIENT_ID,
              client_secret: clientSecret,
              redirect_uris: [`${proxyOrigin}/oauth2/callback`],
            },
          ],
        }),
        (started) => started.stop,
      ),
      services.start(startDemoApi(), (started) => started.close),
    ]);

    const serveUrl = await services
      .start(startServe(app.url), (started) => started.stop)
      .then((started) => started.url);

    const proxy = await services.start(
      startOAuth2ProxyLookalike({
        upstream: serveUrl,
        listenOn: proxySocket,
        oidc: { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret },
        skipAuthPaths: [/^\/cookie-bridge\/relay\//],
      }),
      (started) => started.close,
    );

    process.stdout.write(
      [
        'cookie-bridge demo stack on loopback:',
        `  OpenID provider        ${provider.issuer}   (sign in with any name and password)`,
        `  auth proxy             ${proxy.url}   (oauth2-proxy look-alike, --provider=oidc)`,
        `  cookie-bridge serve    ${serveUrl}   (/token, relay, forwards the rest)`,
        `  demo app               ${app.url}`,
        '',
        'In another terminal, from this folder:',
        '',
        `  npx cookie-bridge api login -e ${proxy.url}`,
        '  npx cookie-bridge request /api/whoami',
        '  npx cookie-bridge api info',
        '',
        'Ctrl-C stops the stack.',
        '',
      ].join('\n'),
    );
  } catch (error) {
    process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
    stopAndExit(1);
  }
}

/** `cookie-bridge serve` in this process, in front of `upstream`, on a free loopback port. */
async function startServe(upstream: string): Promise<{ url: string; stop: Stop }> {
  const serve = createServeApp({ upstream });
  const server = http.createServer(serve.app);
  server.on('upgrade', serve.upgrade);
  await listenNet(server, 0);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A socket bound on the requested port if it is free, else on any free one (said on stderr). 0 means any. */
async function bindProxyPort(wanted: number): Promise<NetServer> {
  if (wanted > 0) {
    const server = createNetServer();
    try {
      await listenNet(server, wanted);
      return server;
    } catch {
      process.stderr.write(`demo: port ${wanted} is in use; using a free one (or pass --port N)\n`);
    }
  }
  const server = createNetServer();
  await listenNet(server, 0);
  return server;
}

function listenNet(server: NetServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Closes the bound socket unless the proxy took it over (the proxy's close releases it then). */
function closeNet(server: NetServer): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}

void main();
