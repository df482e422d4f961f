/**
 * `npm run demo`: the whole cookie-bridge picture on loopback, in one process tree:
 *
 *   browser ──▶ oauth2-proxy look-alike (signs in at a real OpenID provider) ──▶ cookie-bridge serve ──▶ demo app
 *
 * It prints the `cookie-bridge api login -e …` command to run in another terminal and stops cleanly on Ctrl-C.
 *   node dist/scripts/demo.js [--port 4180]     (0 = any free port)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startDemoApi } from '../fixtures/demo-api';
import { startOAuth2ProxyLookalike } from '../fixtures/oauth2-proxy-lookalike';
import { createServeApp } from '../src/server/create-serve-app';

const DEFAULT_PROXY_PORT = 4180;
const PROVIDER_SCRIPT = path.join(__dirname, '..', '..', 'fixtures', 'oidc-provider.mjs');
const CLIENT_ID = 'cookie-bridge-demo';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: String(DEFAULT_PROXY_PORT) } },
  });
  const proxyPort = await pickPort(Number(values.port));
  const proxyOrigin = `http://127.0.0.1:${proxyPort}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const stoppers: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  };
  const onSignal = (): void => {
    process.stderr.write('\nStopping the demo stack…\n');
    void stopAll().then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const provider = await startProvider([
      {
        client_id: CLIENT_ID,
        client_secret: clientSecret,
        redirect_uris: [`${proxyOrigin}/oauth2/callback`],
      },
    ]);
    stoppers.push(provider.stop);

    const app = await startDemoApi();
    stoppers.push(app.close);

    const serve = createServeApp({ upstream: app.url });
    const serveServer = http.createServer(serve.app);
    serveServer.on('upgrade', serve.upgrade);
    await new Promise<void>((resolve) => serveServer.listen(0, '127.0.0.1', resolve));
    const serveUrl = `http://127.0.0.1:${(serveServer.address() as AddressInfo).port}`;
    stoppers.push(
      () =>
        new Promise<void>((resolve) => {
          serveServer.closeAllConnections();
          serveServer.close(() => resolve());
        }),
    );

    const proxy = await startOAuth2ProxyLookalike({
      upstream: serveUrl,
      port: proxyPort,
      oidc: { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret },
      skipAuthPaths: [/^\/cookie-bridge\/relay\//],
    });
    stoppers.push(proxy.close);

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
    await stopAll();
    process.exit(1);
  }
}

/** The requested port if it is free, else any free one (said on stderr). 0 means any. */
async function pickPort(wanted: number): Promise<number> {
  const tryListen = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const server = http.createServer();
      server.once('error', () => resolve(undefined));
      server.listen(port, '127.0.0.1', () => {
        const { port: got } = server.address() as AddressInfo;
        server.close(() => resolve(got));
      });
    });
  if (wanted > 0) {
    const got = await tryListen(wanted);
    if (got !== undefined) return got;
    process.stderr.write(`demo: port ${wanted} is in use; using a free one (or pass --port N)\n`);
  }
  const any = await tryListen(0);
  if (any === undefined) throw new Error('no free port on 127.0.0.1');
  return any;
}

async function startProvider(
  clients: object[],
): Promise<{ issuer: string; stop: () => Promise<void>; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [PROVIDER_SCRIPT, '--port', '0', '--clients', JSON.stringify(clients)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => reject(new Error('the OpenID provider did not start within 30 s')),
      30_000,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { issuer: string }).issuer);
      } catch {
        reject(new Error(`unexpected output from the OpenID provider: ${line}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the OpenID provider exited (${code ?? 'signal'})`));
    });
  });
  return { issuer, stop, child };
}

void main();
