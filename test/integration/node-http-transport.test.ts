/**
 * The one client's short exchanges on node:http/https (src/http/node-http-transport.ts), through
 * createHttpClient(): the same behaviour as on undici (http-client.test.ts), and the routes undici's
 * ProxyAgent takes, against in-process servers on 127.0.0.1:0: a forward proxy that answers CONNECT and
 * absolute-form requests, and an https origin signed by a private CA.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createHttpClient, readResponseText } from '../../src/http/http-request';
import { createTlsTrust } from '../../src/http/tls-options';
import { EndpointUnreachableError, ProxyError, TlsError } from '../../src/errors';
import { createTestCa, REAL_COMPONENT_PATHS, requireComponent, type TestCa } from '../kit/real-components';

const describeWithOpenssl = requireComponent('openssl', REAL_COMPONENT_PATHS.openssl)
  ? describe
  : describe.skip;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

const listen = async (server: net.Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const close = (server: net.Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
  });

describeWithOpenssl('the node:http transport of the one client', () => {
  let ca: TestCa;
  let origin: http.Server;
  let secure: https.Server;
  let proxy: http.Server;
  let base: string;
  let secureBase: string;
  let proxyUrl: string;
  const seen: Seen[] = [];
  const proxied: Seen[] = [];
  const held: http.ServerResponse[] = [];
  /** The proxy's answer to CONNECT and absolute-form requests: 0 means do its job. */
  let proxyRefuses = 0;
  /** Tunnels the proxy opened (closeAllConnections does not see CONNECT sockets). */
  const tunnels: net.Socket[] = [];

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    if (req.url === '/silent') {
      held.push(res);
      return;
    }
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
      return;
    }
    res.writeHead(418, 'Short And Stout', [
      ['set-cookie', 'a=1; Path=/'],
      ['set-cookie', 'b=2; Path=/'],
      ['x-twice', 'one'],
      ['x-twice', 'two'],
    ]);
    res.end('tea');
  };

  beforeAll(async () => {
    ca = createTestCa('node-transport-ca');
    const issued = ca.issue();
    origin = http.createServer(handler);
    base = `http://127.0.0.1:${await listen(origin)}`;
    secure = https.createServer(
      { cert: readFileSync(issued.certFile), key: readFileSync(issued.keyFile) },
      handler,
    );
    secureBase = `https://localhost:${await listen(secure)}`;
    proxy = http.createServer((req, res) => {
      proxied.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      if (proxyRefuses !== 0) {
        res.writeHead(proxyRefuses);
        res.end();
        return;
      }
      const target = new URL(req.url ?? '');
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
          answer.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
      proxied.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
      tunnels.push(socket);
      if (proxyRefuses !== 0) {
        socket.end(`HTTP/1.1 ${proxyRefuses} No\r\n\r\n`);
        return;
      }
      const [host, port] = (req.url ?? '').split(':');
      const upstream = net.connect(Number(port), host === 'localhost' ? '127.0.0.1' : host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      tunnels.push(upstream);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    proxyUrl = `http://user:p%40ss@127.0.0.1:${await listen(proxy)}`;
  });

  afterEach(() => {
    seen.length = 0;
    proxied.length = 0;
    proxyRefuses = 0;
    for (const res of held.splice(0)) res.end();
  });

  afterAll(async () => {
    for (const socket of tunnels) socket.destroy();
    origin.closeAllConnections();
    secure.closeAllConnections();
    proxy.closeAllConnections();
    await Promise.all([close(origin), close(secure), close(proxy)]);
    ca.remove();
  });

  it('direct: only the given headers and Host, a framed body, no redirect, reason phrase and node-form headers', async () => {
    const client = createHttpClient();
    const response = await client.request(new URL('/teapot?x=1', base), {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: Buffer.from('{"a":1}'),
    });
    expect(await readResponseText(response)).toBe('tea');
    expect(response.status).toBe(418);
    expect(response.statusText).toBe('Short And Stout');
    expect(response.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
    expect(response.headers['x-twice']).toBe('one, two');
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/teapot?x=1' });
    expect(seen[0]?.headers['content-length']).toBe('7');
    expect(Object.keys(seen[0]?.headers ?? {}).sort()).toEqual([
      'accept',
      'connection',
      'content-length',
      'host',
    ]);
    const redirect = await client.request(new URL('/redirect', base));
    await readResponseText(redirect);
    expect(redirect.status).toBe(302);
  });

  it('frames a DELETE body too (node:http would send it unframed: the server reads it as a second request)', async () => {
    const client = createHttpClient();
    const response = await client.request(new URL('/teapot', base), {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(await readResponseText(response)).toBe('tea');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: '/teapot' });
    expect(seen[0]?.headers['content-length']).toBe('2');
  });

  it('times out at timeoutMs until the response head, and stops when its signal aborts', async () => {
    const client = createHttpClient();
    const late = client.request(new URL('/silent', base), { timeoutMs: 50 });
    await expect(late).rejects.toBeInstanceOf(EndpointUnreachableError);
    await expect(late).rejects.toThrow(/127\.0\.0\.1.*no answer within/);
    const controller = new AbortController();
    const aborted = client.request(new URL('/silent', base), { signal: controller.signal, timeoutMs: 0 });
    await new Promise<void>((resolve) => origin.once('request', () => resolve()));
    controller.abort();
    await expect(aborted).rejects.toThrow(/: aborted$/);
  });

  it('https through a CONNECT tunnel, trusting the private CA inside it, with the proxy credentials', async () => {
    const client = createHttpClient({
      env: { https_proxy: proxyUrl },
      tls: createTlsTrust({ env: {}, ca: ca.caPem }),
    });
    const response = await client.request(new URL('/teapot', secureBase));
    expect(await readResponseText(response)).toBe('tea');
    expect(proxied).toHaveLength(1);
    expect(proxied[0]?.method).toBe('CONNECT');
    expect(proxied[0]?.url).toBe(`localhost:${new URL(secureBase).port}`);
    expect(proxied[0]?.headers['proxy-authorization']).toBe(
      `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    );
    expect(seen[0]?.headers['proxy-authorization']).toBeUndefined();
  });

  it('without the private CA the tunnelled origin is a TlsError; a refused CONNECT is E_PROXY_REFUSED', async () => {
    const untrusting = createHttpClient({ env: { https_proxy: proxyUrl }, tls: createTlsTrust({ env: {} }) });
    await expect(untrusting.request(new URL('/teapot', secureBase))).rejects.toBeInstanceOf(TlsError);
    proxyRefuses = 407;
    const refused = untrusting.request(new URL('/teapot', secureBase));
    await expect(refused).rejects.toBeInstanceOf(ProxyError);
    await expect(refused).rejects.toMatchObject({ code: 'E_PROXY_REFUSED' });
    await expect(refused).rejects.toThrow(/answered 407 to CONNECT localhost/);
  });

  it('http through the proxy: absolute-form with Proxy-Authorization; 407 is E_PROXY_REFUSED; a proxy down is E_PROXY_UNREACHABLE', async () => {
    const client = createHttpClient({ env: { http_proxy: proxyUrl } });
    const response = await client.request(new URL('/teapot', base));
    expect(await readResponseText(response)).toBe('tea');
    expect(proxied[0]?.url).toBe(`${base}/teapot`);
    expect(proxied[0]?.headers['proxy-authorization']).toBe(
      `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    );
    proxyRefuses = 407;
    await expect(client.request(new URL('/teapot', base))).rejects.toMatchObject({
      code: 'E_PROXY_REFUSED',
    });
    const down = http.createServer();
    const port = await listen(down);
    await close(down);
    const unreachable = createHttpClient({ env: { http_proxy: `http://127.0.0.1:${port}` } });
    await expect(unreachable.request(new URL('/teapot', base))).rejects.toMatchObject({
      code: 'E_PROXY_UNREACHABLE',
    });
  });
});
