import { once } from 'node:events';
import { decodeCookieBundle } from '../../src/protocol/bundle-codec';
import {
  httpRequest,
  readResponseBody,
  readResponseText,
  type HttpRequestOptions,
} from '../../src/http/http-request';
import { PortInUseError } from '../../src/errors';
import { DEMO_ITEMS, patternStream, startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';

let api: RunningDemoApi;
beforeAll(async () => {
  api = await startDemoApi();
});
afterAll(() => api.close());

async function call(path: string, options: HttpRequestOptions = {}) {
  const res = await httpRequest(new URL(path, api.url), options);
  const text = await readResponseText(res);
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

describe('demo API', () => {
  it('listens on 127.0.0.1 on a free port', () => {
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    expect(api.port).toBeGreaterThan(0);
  });

  it('GET /api/health and /api/whoami report the identity header', async () => {
    const headers = { 'X-Auth-Request-Email': 'ada@example.com' };
    expect((await call('/api/health', { headers })).json()).toEqual({
      status: 'ok',
      user: 'ada@example.com',
    });
    expect((await call('/api/whoami', { headers })).json()).toEqual({ user: 'ada@example.com' });
    expect((await call('/api/whoami')).json()).toEqual({ user: null });
  });

  it('GET /api/items returns the list', async () => {
    const res = await call('/api/items');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual({ items: DEMO_ITEMS });
  });

  it('POST /api/echo echoes a JSON body, the method, the identity and cookie names (values redacted)', async () => {
    const res = await call('/api/echo?x=1', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Auth-Request-Email': 'ada@example.com',
        Cookie: 'session=TopSecretValue; theme=dark',
        'X-Custom': 'kept',
      },
      body: JSON.stringify({ hello: 'world', n: [1, 2] }),
    });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      method: 'POST',
      path: '/api/echo',
      query: { x: '1' },
      user: 'ada@example.com',
      contentType: 'application/json',
      body: { hello: 'world', n: [1, 2] },
      cookieNames: ['session', 'theme'],
      headers: { 'x-custom': 'kept', cookie: 'session=<redacted>; theme=<redacted>' },
    });
    expect(res.text).not.toContain('TopSecretValue');
  });

  it('echoes a text body and other methods', async () => {
    const res = await call('/api/echo', {
      method: 'PUT',
      headers: { 'Content-Type': 'text/plain' },
      body: 'hi there',
    });
    expect(res.json()).toMatchObject({
      method: 'PUT',
      body: 'hi there',
      contentType: 'text/plain',
      user: null,
    });
    const empty = await call('/api/echo', { method: 'DELETE' });
    expect(empty.json()).toMatchObject({ method: 'DELETE', body: null, contentType: null });
  });

  it('answers a malformed JSON body with 400', async () => {
    const res = await call('/api/echo', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: 'bad_request' });
  });

  it.each([
    [201, '{"status":201}'],
    [401, '{"status":401}'],
    [404, '{"status":404}'],
    [503, '{"status":503}'],
    [204, ''],
  ])('GET /api/status/%i', async (code, body) => {
    const res = await call(`/api/status/${code}`);
    expect(res.status).toBe(code);
    expect(res.text).toBe(body);
  });

  it.each(['abc', '99', '199', '600', '1000', '2e2'])('GET /api/status/%s is a 400', async (code) => {
    const res = await call(`/api/status/${code}`);
    expect(res.status).toBe(400);
  });

  it('GET /api/bytes?size=N streams exactly N bytes of the pattern', async () => {
    const res = await httpRequest(new URL('/api/bytes?size=1000', api.url));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-length']).toBe('1000');
    const body = await readResponseBody(res);
    expect(body).toEqual(Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256)));
  });

  it('GET /api/bytes?size=0 sends an empty body', async () => {
    const res = await call('/api/bytes?size=0');
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
  });

  it('streams 32 MiB with the pattern intact across chunks', async () => {
    const size = 32 * 1024 * 1024 + 123;
    const res = await httpRequest(new URL(`/api/bytes?size=${size}`, api.url));
    let offset = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      expect(chunk[0]).toBe(offset % 256);
      expect(chunk[chunk.length - 1]).toBe((offset + chunk.length - 1) % 256);
      offset += chunk.length;
    }
    expect(offset).toBe(size);
  });

  it('serves an 8 GiB stream without making it first: the client reads 1 MiB and hangs up', async () => {
    const size = 8 * 1024 ** 3;
    const res = await httpRequest(new URL(`/api/bytes?size=${size}`, api.url));
    expect(res.headers['content-length']).toBe(String(size));
    let received = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      received += chunk.length;
      if (received >= 1024 * 1024) break; // destroys the response
    }
    expect(received).toBeGreaterThanOrEqual(1024 * 1024);
    // The server is still healthy afterwards.
    expect((await call('/api/health')).status).toBe(200);
  });

  it('HEAD /api/bytes gives the length without a body', async () => {
    const res = await httpRequest(new URL('/api/bytes?size=12345', api.url), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('12345');
    expect((await readResponseBody(res)).length).toBe(0);
  });

  it.each(['', 'size=', 'size=-1', 'size=abc', 'size=1.5', 'size=1e3', `size=${64 * 1024 ** 3 + 1}`])(
    'GET /api/bytes?%s is a 400',
    async (query) => {
      const res = await call(`/api/bytes?${query}`);
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: 'bad_request' });
    },
  );

  it('serves /token', async () => {
    const res = await call('/token?local_port=50123&state=abc', {
      headers: { Cookie: 'a=1', 'X-Auth-Request-Email': 'ada@example.com' },
    });
    expect(res.status).toBe(200);
    const text = /<textarea id="bundle" readonly[^>]*>([^<]*)</.exec(res.text)?.[1] ?? '';
    expect(decodeCookieBundle(text)).toMatchObject({ state: 'abc', user: 'ada@example.com' });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const res = await call('/api/nope');
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'no such route' });
  });

  it('close() ends even while a download is in flight', async () => {
    const other = await startDemoApi();
    const res = await httpRequest(new URL(`/api/bytes?size=${4 * 1024 ** 3}`, other.url));
    res.body.on('error', () => undefined); // "aborted": expected
    let complete = false;
    res.body.on('end', () => (complete = true));
    const ended = new Promise<void>((resolve) => res.body.on('close', resolve));
    res.body.resume();
    await other.close();
    await ended;
    expect(complete).toBe(false);
  });

  it('refuses a port in use with PortInUseError', async () => {
    await expect(startDemoApi({ port: api.port })).rejects.toBeInstanceOf(PortInUseError);
  });
});

describe('patternStream', () => {
  it('makes nothing beyond its buffer while nobody reads (back-pressure)', async () => {
    const stream = patternStream(10 * 1024 ** 3);
    await once(stream, 'readable');
    expect(stream.readableLength).toBeGreaterThan(0);
    expect(stream.readableLength).toBeLessThanOrEqual(stream.readableHighWaterMark);
    const chunk = stream.read(300) as Buffer;
    expect(chunk[0]).toBe(0);
    expect(chunk[299]).toBe(299 % 256);
    stream.destroy();
  });
});
