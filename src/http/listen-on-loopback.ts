import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../context';
import { LoginError, PortInUseError, describeSystemError, errnoCode } from '../errors';

/** Where the login listener binds: the loopback addresses only, never a public interface. */
export const HOST_V4 = '127.0.0.1';
export const HOST_V6 = '::1';
const FREE_PORT_ATTEMPTS = 5;

/**
 * Listens on 127.0.0.1 and, when the machine has IPv6 loopback, on ::1 with the same port (so `localhost`
 * reaches us whichever it resolves to). A taken port is PortInUseError; a free port taken on ::1 only is
 * retried with another free port unless the user chose the port.
 */
export async function listenOnLoopback(
  requestedPort: number,
  handle: http.RequestListener,
  logger: Logger,
): Promise<{ servers: http.Server[]; port: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const v4 = http.createServer(handle);
    let port: number;
    try {
      port = await listen(v4, requestedPort, HOST_V4);
    } catch (error) {
      if (errnoCode(error) === 'EADDRINUSE') throw new PortInUseError(requestedPort, HOST_V4);
      throw listenFailed(HOST_V4, requestedPort, error);
    }
    const v6 = http.createServer(handle);
    try {
      await listen(v6, port, HOST_V6);
      return { servers: [v4, v6], port };
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') {
        logger.debug(`loopback: no IPv6 loopback here (${code}); listening on ${HOST_V4} only`);
        return { servers: [v4], port };
      }
      await new Promise<void>((resolve) => v4.close(() => resolve()));
      if (code === 'EADDRINUSE') {
        // A free IPv4 port may be taken on ::1 by someone else: pick another one, unless the user chose it.
        if (requestedPort === 0 && attempt < FREE_PORT_ATTEMPTS) continue;
        throw new PortInUseError(port, HOST_V6);
      }
      throw listenFailed(HOST_V6, port, error);
    }
  }
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

function listenFailed(host: string, port: number, error: unknown): LoginError {
  return new LoginError(
    'E_LISTEN_FAILED',
    `cannot listen on ${host}:${port}: ${describeSystemError(error)}`,
    {
      hint: 'pick another port with --port N, or paste the bundle shown on the /token page',
      cause: error,
    },
  );
}
