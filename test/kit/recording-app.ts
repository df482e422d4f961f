import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the app received it (the request target exactly as it arrived). */
export interface RecordedRequest {
  method: string;
  url: string;
  /** Every header, lower-case names; repeated ones joined with ", ". */
  headers: Record<string, string>;
  upgrade: boolean;
}

/** A fixed HTML page the app serves at one path (with Set-Cookie headers, if given). */
export interface AppPage {
  html: string;
  setCookie?: string[];
}

export interface RecordingApp {
  url: string;
  port: number;
  /** The app's own request log: every request and WebSocket upgrade that reached it, in order. */
  log: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A throwaway upstream app on 127.0.0.1 port 0 that logs every request reaching it, for the security suites:
 * "nothing reached the app" is proved by this log. It serves `pages` (by path) as HTML and answers 200 JSON
 * `{"app":true,…}` to everything else except `/api/health`, which it has not (404, so `serve` answers that
 * itself, with the identity); upgrades are logged and refused.
 */
export async function startRecordingApp(
  options: { pages?: Record<string, AppPage> } = {},
): Promise<RecordingApp> {
  const pages = options.pages ?? {};
  const log: RecordedRequest[] = [];
  const record = (req: http.IncomingMessage, upgrade: boolean): RecordedRequest => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const entry = { method: req.method ?? '?', url: req.url ?? '', headers, upgrade };
    log.push(entry);
    return entry;
  };
  const server = http.createServer((req, res) => {
    const entry = record(req, false);
    req.resume();
    req.on('end', () => {
      const page = pages[new URL(entry.url, 'http://app').pathname];
      if (page !== undefined) {
        res.writeHead(200, {
          'Content-Type': 'text/html; charset=utf-8',
          'Cache-Control': 'no-store',
          ...(page.setCookie === undefined ? {} : { 'Set-Cookie': page.setCookie }),
        });
        res.end(page.html);
        return;
      }
      const body = JSON.stringify({ app: true, method: entry.method, url: entry.url });
      res.writeHead(entry.url.split('?')[0] === '/api/health' ? 404 : 200, {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(body)),
      });
      res.end(body);
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: import('node:stream').Duplex) => {
    record(req, true);
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The app's request log as "METHOD target" lines, in order. */
export function requestLines(app: RecordingApp): string[] {
  return app.log.map((entry) => `${entry.method} ${entry.url}`);
}
