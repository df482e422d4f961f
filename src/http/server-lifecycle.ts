import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import { PortInUseError } from '../errors';
import { systemTimers, unrefTimer, type Timers } from '../context';

/**
 * Listening and stopping, once for every server we run (login listener, local forwarding proxy, serve):
 * a taken port is PortInUseError, and a shutdown lets in-flight requests finish within a grace period.
 */

export interface ListenOptions {
  port: number;
  host: string;
  /** The PortInUseError's hint (what to do next), when the default does not fit the command. */
  portInUseHint?: string;
  /** Share the port with the other workers of a node:cluster (not exclusive); default false. */
  shared?: boolean;
}

/** Listens (exclusively) and resolves with the port bound; EADDRINUSE rejects with PortInUseError. */
export function listenServer(server: Server, options: ListenOptions): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(options.port, options.host, ...optional(options.portInUseHint))
          : error,
      );
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : options.port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port: options.port, host: options.host, exclusive: options.shared !== true });
  });
}

/** The part of an http.Server a graceful close needs. */
export interface ClosableHttpServer {
  readonly listening: boolean;
  close(callback: () => void): unknown;
  closeIdleConnections(): void;
  closeAllConnections(): void;
}

export interface GracefulClose {
  /** Resolves once the server has closed (every connection gone). */
  closed: Promise<void>;
  /** Cuts what is left at once (a second Ctrl-C). */
  now(): void;
}

/**
 * Stops accepting, closes idle keep-alive connections and upgraded sockets (WebSockets would otherwise keep
 * the server open for ever), lets in-flight requests finish, and cuts what is left after `graceMs` (on
 * `timers`, default the real setTimeout).
 */
export function closeGracefully(
  server: ClosableHttpServer,
  options: { graceMs: number; upgraded?: Iterable<Duplex>; timers?: Timers },
): GracefulClose {
  for (const socket of options.upgraded ?? []) socket.destroy();
  if (!server.listening) return { closed: Promise.resolve(), now: () => undefined };
  const timers = options.timers ?? systemTimers;
  const cut = timers.setTimeout(() => server.closeAllConnections(), options.graceMs);
  unrefTimer(cut);
  const closed = new Promise<void>((resolve) => {
    server.close(() => {
      timers.clearTimeout(cut);
      resolve();
    });
  });
  server.closeIdleConnections();
  return { closed, now: () => server.closeAllConnections() };
}

function optional<T>(value: T | undefined): [T] | [] {
  return value === undefined ? [] : [value];
}
