/**
 * A --relay login (receiveBundle) whose server's relay store goes down while the CLI waits for its claim: the
 * login keeps waiting, and the person sees one line for the outage and one when it is back, each on a line of
 * its own (the status line stops around it and starts again). Scripted HTTP answers, manual timers: no socket,
 * no sleep.
 */
import { Readable, PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { HttpClient, HttpRequestOptions, HttpResponse } from '../../src/http/http-request';
import { encodeCookieBundle } from '../../src/protocol/bundle-codec';
import { parseEndpoint } from '../../src/protocol/endpoint';
import { receiveBundle } from '../../src/login/receive-bundle';
import { RELAY_STORE_BACK_NOTICE, RELAY_STORE_OUTAGE_NOTICE } from '../../src/login/relay-client';
import { MemoryCredentialStore } from '../kit/memory-credential-store';
import { manualTimers } from '../kit/manual-timers';

const STATE = 's'.repeat(43);

function response(status: number, body: string): HttpResponse {
  return {
    url: new URL('http://api.test/'),
    status,
    statusText: '',
    headers: { 'content-type': 'application/json' },
    body: Readable.from([Buffer.from(body)]) as unknown as IncomingMessage,
  };
}

describe('a --relay login while the server relay store is down', () => {
  it('keeps waiting past ten unavailable claims and says so once, on a line of its own, then when it is back', async () => {
    const unavailable = '{"error":"relay_store_unavailable","message":"relay store unavailable: try again"}';
    const claims = ['202', ...Array.from({ length: 12 }, () => '503'), '202', '200'];
    const paths: string[] = [];
    const request = (url: URL, _options: HttpRequestOptions = {}): Promise<HttpResponse> => {
      paths.push(url.pathname);
      if (url.pathname.endsWith('/info')) return Promise.resolve(response(200, '{"relay":1}'));
      if (url.pathname.endsWith('/register'))
        return Promise.resolve(response(201, '{"status":"registered"}'));
      const next = claims.shift();
      if (next === '503') return Promise.resolve(response(503, unavailable));
      if (next === '202') return Promise.resolve(response(202, '{"status":"pending"}'));
      const bundle = encodeCookieBundle({ cookies: [{ name: '_oauth2_proxy', value: 'v' }], state: STATE });
      return Promise.resolve(response(200, JSON.stringify({ bundle })));
    };
    // Progress and logger write into one list, so the order shows.
    const screen: string[] = [];
    const timers = manualTimers();
    const stdin = new PassThrough();
    stdin.end();
    let draws = 0;
    const arrival = receiveBundle(
      parseEndpoint('http://api.test'),
      { endpoint: 'http://api.test', relay: true },
      {
        logger: {
          debug: () => undefined,
          info: (line) => screen.push(`info: ${line}`),
          warn: (line) => screen.push(`warn: ${line}`),
        },
        progress: {
          start: (text) => screen.push(`start: ${text.slice(0, 28)}`),
          update: () => undefined,
          stop: () => screen.push('stop'),
        },
        http: { request } as unknown as HttpClient,
        timers,
        now: () => 0,
        randomState: () => (draws++ === 0 ? STATE : `${'r'.repeat(42)}${draws}`),
        store: new MemoryCredentialStore(() => 0),
        openBrowser: () => Promise.resolve(),
        stdin: stdin as unknown as NodeJS.ReadStream,
      },
    );
    // Fire each pause between claims (1 s); the login's own timeout (300 s) stays pending.
    let pauses = 0;
    void (async () => {
      for (;;) {
        const timer = await timers.next();
        if (timer.ms === 1_000) {
          pauses += 1;
          timer.fire();
        }
      }
    })();
    const { bundle, via } = await arrival;
    expect(via).toBe('relay');
    expect(bundle.state).toBe(STATE);
    expect(pauses).toBe(14);
    expect(paths.filter((path) => path.endsWith('/claim'))).toHaveLength(15);
    /** The status line's start (its first 28 characters: the rest names the code). */
    const waiting = 'start: Waiting for the browser sign';
    expect(
      screen.filter((line) => !line.startsWith('info: Sign in') && !line.startsWith('info: Confirmation')),
    ).toEqual([
      waiting,
      'stop',
      `warn: ${RELAY_STORE_OUTAGE_NOTICE}`,
      waiting,
      'stop',
      `info: ${RELAY_STORE_BACK_NOTICE}`,
      waiting,
      'stop',
    ]);
  });
});
