/**
 * The Host check of every loopback server (login listener, local forwarding proxy): DNS rebinding gives a
 * page on evil.example our address, but its requests still say `Host: evil.example`, so only the loopback
 * names with our port are served. Pure.
 */

/** `127.0.0.1:<port>`, `localhost:<port>` or `[::1]:<port>` (case and surrounding space ignored). */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return loopbackHosts(port).includes(host.trim().toLowerCase());
}

/** The origins a page served by a loopback server on `port` has. */
export function loopbackOrigins(port: number): string[] {
  return loopbackHosts(port).map((host) => `http://${host}`);
}

function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}
