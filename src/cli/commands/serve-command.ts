import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isValidCookieName } from '../../core/bundle-codec';
import { PortInUseError, UsageError } from '../../errors';
import { createServeApp } from '../../server/create-serve-app';
import type { CliContext } from '../cli-context';

export interface ServeCommandOptions {
  upstream: string;
  port: number;
  host: string;
  identityHeader: string;
  upstreamTimeout: number;
  /** --session-cookie NAME…: more cookie names the /token bundle carries. */
  sessionCookie?: string[];
}

/** Time in-flight requests get to finish after SIGINT/SIGTERM before their connections are closed. */
const SHUTDOWN_GRACE_MS = 10_000;

/** `cookie-bridge serve`: listens until SIGINT or SIGTERM, then closes cleanly and exits 0. */
export async function serveCommand(ctx: CliContext, options: ServeCommandOptions): Promise<number> {
  const upstream = checkUpstream(options.upstream);
  const sessionCookies = checkSessionCookies(options.sessionCookie ?? []);
  const { app, upgrade } = createServeApp({
    upstream,
    identityHeader: options.identityHeader,
    sessionCookies,
    logger: ctx.logger,
    now: ctx.now,
    proxyTimeoutMs: options.upstreamTimeout * 1000,
  });
  const server = http.createServer(app);
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    upgrade(req, socket, head);
  });
  server.on('clientError', (_error, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(
              options.port,
              options.host,
              'pick another one with --port N (--port 0 picks a free one)',
            )
          : error,
      );
    };
    server.once('error', onError);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => ctx.logger.warn(`server error: ${error.message}`));
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  ctx.stderr.write(`cookie-bridge serve: listening on http://${host}:${port} → upstream ${upstream}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    let force: NodeJS.Timeout | undefined;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal: do not wait for anyone.
        server.closeAllConnections();
        return;
      }
      stopping = true;
      ctx.logger.info(`cookie-bridge serve: ${signal}: shutting down`);
      server.close(() => {
        if (force !== undefined) clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
      for (const socket of upgraded) socket.destroy();
      force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      force.unref();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    server.once('close', () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
  });
  return 0;
}

function checkUpstream(upstream: string): string {
  let url: URL;
  try {
    url = new URL(upstream);
  } catch {
    throw new UsageError(`--upstream is not a URL: ${JSON.stringify(upstream)}`, {
      hint: 'pass the app as --upstream http://127.0.0.1:3000',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--upstream must be an http:// or https:// URL, not ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('--upstream must not carry user:password@');
  }
  return url.toString().replace(/\/+$/, '');
}

function checkSessionCookies(names: string[]): string[] {
  for (const name of names) {
    if (!isValidCookieName(name)) {
      throw new UsageError(`--session-cookie is not a cookie name: ${JSON.stringify(name.slice(0, 64))}`, {
        hint: "pass the auth proxy's cookie name, e.g. --session-cookie _my_proxy (its _0, _1… chunks go too)",
      });
    }
  }
  return names;
}
