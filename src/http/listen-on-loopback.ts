import * as http from 'node:http';
import type { Logger } from '../context';
import { LoginError, PortInUseError, describeSystemError, errnoCode } from '../errors';
import { listenServer } from '../http/server-lifecycle';

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
      port = await listenServer(v4, { port: requestedPort, host: HOST_V4 });
    } catch (error) {
      if (error instanceof PortInUseError) throw error;
      throw listenFailed(HOST_V4, requestedPort, error);
    }
    const v6 = http.createServer(handle);
    try {
      await listenServer(v6, { port, host: HOST_V6 });
      return { servers: [v4, v6], port };
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') {
        logger.debug(`loopback: no IPv6 loopback here (${code}); listening on ${HOST_V4} only`);
        return { servers: [v4], port };
      }
      await new Promise<void>((resolve) => v4.close(() => resolve()));
      if (error instanceof PortInUseError) {
        // A free IPv4 port may be taken on ::1 by someone else: pick another one, unless the user chose it.
        if (requestedPort === 0 && attempt < FREE_PORT_ATTEMPTS) continue;
        throw error;
      }
      throw listenFailed(HOST_V6, port, error);
    }
  }
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
