/**
 * The one outbound HTTP client (src/core/http-request.ts, on undici) against a throwaway node:http server
 * on 127.0.0.1:0 that records what arrives: it sends only the headers we give (no Sec-Fetch-*, which makes
 * mod_auth_openidc answer 401; no User-Agent), follows no redirect, keeps the reason phrase and the
 * headers byte for byte, and honours its time limit and an AbortSignal.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import {
  createHttpClient,
  httpRequest,
  readResponseText,
  type HttpResponse,
} from '../../src/http/http-request';
import { EndpointUnreachableError } from '../../src/errors';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

let server: http.Server;
let base: string;
const seen: Seen[] = [];
/** Requests the server holds without answering (the time-out and abort cases), released in afterEach. */
const held: http.ServerResponse[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    } else if (req.url === '/teapot') {
      res.writeHead(418, 'Short And Stout', [
        ['set-cookie', 'a=1; Path=/'],
        ['x-latin1', Buffer.from('caf\xe9', 'latin1').toString('latin1')],
        ['x-twice', 'one'],
        ['x-twice', 'two'],
      ]);
      res.end('tea');
    } else if (req.url === '/silent') {
      held.push(res);
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  seen.length = 0;
  for (const res of held.splice(0)) res.end();
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function drain(response: HttpResponse): Promise<string> {
  return readResponseText(response);
}

it('sends only the headers it is given: no Sec-Fetch-*, no User-Agent, nothing of its own but Host', async () => {
  const response = await httpRequest(new URL('/plain', base), { headers: { accept: 'application/json' } });
  expect(await drain(response)).toBe('ok');
  expect(seen).toHaveLength(1);
  const names = Object.keys(seen[0]?.headers ?? {}).sort();
  expect(names.filter((name) => name.startsWith('sec-fetch-'))).toEqual([]);
  expect(names).toEqual(['accept', 'connection', 'host']);
});

it('frames a body itself and sends it as given', async () => {
  const response = await httpRequest(new URL('/plain', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"a":1}',
  });
  await drain(response);
  expect(seen[0]?.method).toBe('POST');
  expect(seen[0]?.headers['content-length']).toBe('7');
});

it('follows no redirect: the 302 is the answer', async () => {
  const response = await httpRequest(new URL('/redirect', base));
  await drain(response);
  expect(response.status).toBe(302);
  expect(response.headers.location).toBe('/elsewhere');
  expect(seen.map((request) => request.url)).toEqual(['/redirect']);
});

it("keeps the reason phrase, Set-Cookie as a list, repeated headers joined and values' bytes", async () => {
  const response = await httpRequest(new URL('/teapot', base));
  expect(await drain(response)).toBe('tea');
  expect(response.status).toBe(418);
  expect(response.statusText).toBe('Short And Stout');
  expect(response.headers['set-cookie']).toEqual(['a=1; Path=/']);
  expect(response.headers['x-twice']).toBe('one, two');
  expect(Buffer.from(String(response.headers['x-latin1']), 'latin1')).toEqual(
    Buffer.from('caf\xe9', 'latin1'),
  );
});

it('gives up when the headers do not come within timeoutMs, naming the endpoint', async () => {
  const attempt = httpRequest(new URL('/silent', base), { timeoutMs: 50 });
  await expect(attempt).rejects.toBeInstanceOf(EndpointUnreachableError);
  await expect(attempt).rejects.toThrow(/127\.0\.0\.1.*no answer within/);
});

it('stops when its signal aborts', async () => {
  const controller = new AbortController();
  const attempt = httpRequest(new URL('/silent', base), { signal: controller.signal });
  await waitFor(() => seen.length === 1);
  controller.abort();
  await expect(attempt).rejects.toThrow(/: aborted$/);
});

it('a refused connection is EndpointUnreachableError in words', async () => {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  await expect(httpRequest(new URL(`http://127.0.0.1:${port}/`))).rejects.toThrow(
    /connection refused \(is the server running\?\)/,
  );
});

it('createHttpClient sends through the dispatcher it is given (the one place to add a proxy or CA)', async () => {
  const agent = new Agent();
  let dispatched = 0;
  const counting = agent.compose(
    (dispatch) => (options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers) => {
      dispatched += 1;
      return dispatch(options, handler);
    },
  );
  const client = createHttpClient({ dispatcher: counting });
  const response = await client.request(new URL('/plain', base));
  expect(await drain(response)).toBe('ok');
  expect(dispatched).toBe(1);
  await agent.close();
});

/** Resolves once `condition` holds, checking after each server event (no timers). */
function waitFor(condition: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    if (condition()) return resolve();
    const check = (): void => {
      if (!condition()) return;
      server.off('request', check);
      resolve();
    };
    server.on('request', check);
  });
}
