/**
 * Issue 8 item 3: relay login can no longer be phished like a device code.
 *
 * The built CLI (`api login --relay --no-browser`) registers its challenge and code with createServeApp
 * behind real nginx auth_request + the oauth2-proxy look-alike (the docs/serve.md recipe, relay prefix
 * exempt); real headless Chromium, signed in as the victim, opens the link and types codes on the /token
 * page. The app behind serve logs every request it gets: no relay or /token request ever reaches it.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { encodeCookieBundle } from '../../src/protocol/bundle-codec';
import { relayChallengeFor } from '../../src/protocol/relay-protocol';
import { createMemoryRelayStore } from '../../src/server/relay-store';
import { cliEnv, makeTempHome, startCli, type RunningCli } from '../kit/cli-runner';
import { rawRequest } from '../kit/hostile-kit';
import { requestLines } from '../kit/recording-app';
import {
  launchChromium,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  REAL_SETUP_TIMEOUT_MS,
  signInAtLookalike,
  startServeBehindNginx,
  type LaunchedChromium,
  type ServeBehindNginx,
} from '../kit/real-components';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const MAX_PENDING_PER_SOURCE = 3;

/** Credential files the CLI stored under a home folder. */
function storedCredentialFiles(home: string): string[] {
  const endpoints = join(home, 'cookie-bridge', 'endpoints');
  if (!existsSync(endpoints)) return [];
  return readdirSync(endpoints).flatMap((slug) => readdirSync(join(endpoints, slug)));
}

/** Relay and /token requests that reached the app behind serve (there must be none). */
function leakedToApp(stack: ServeBehindNginx): string[] {
  return requestLines(stack.app).filter((line) => /^\S+ \/(token|cookie-bridge)/i.test(line));
}

/** Types `code` into the open /token page's relay form and confirms; the answer's status and text. */
async function typeCodeAndConfirm(page: Page, code: string): Promise<{ status: number; text: string }> {
  await page.fill('#relay-code-input', code);
  const [answer] = await Promise.all([
    page.waitForResponse(
      (response) => response.url().endsWith('/token/relay') && response.request().method() === 'POST',
    ),
    page.click('#relay-confirm'),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return { status: answer.status(), text: await page.locator('main').innerText() };
}

describeReal('relay login against phishing (built CLI, real Chromium, real nginx)', () => {
  let stack: ServeBehindNginx;
  let chromium: LaunchedChromium;
  let victim: Page;

  beforeAll(async () => {
    stack = await startServeBehindNginx({
      relayStore: createMemoryRelayStore({ maxPendingPerSource: MAX_PENDING_PER_SOURCE }),
    });
    chromium = await launchChromium();
    victim = await chromium.context.newPage();
    expect(await signInAtLookalike(victim, `${stack.endpoint}/signed-in`, 'victim@example.com')).toBe(200);
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await chromium?.close();
    await stack?.close();
  }, REAL_SETUP_TIMEOUT_MS);

  /** `api login --relay --no-browser` ("the attacker's" or the person's terminal) and what it printed. */
  async function startRelayLogin(home: string): Promise<{ cli: RunningCli; url: string; code: string }> {
    const cli = startCli(
      [
        'api',
        'login',
        '-e',
        stack.endpoint,
        '--relay',
        '--no-browser',
        '--json',
        '--timeout',
        REAL_CLI_LOGIN_TIMEOUT_S,
      ],
      cliEnv(home),
    );
    try {
      const [url] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
      const [, code] = await cli.waitForStderr(/Confirmation code: ([0-9A-Z]{4}-[0-9A-Z]{4})/);
      return { cli, url: url ?? '', code: code ?? '' };
    } catch (error) {
      cli.child.kill('SIGTERM');
      throw error;
    }
  }

  it(
    'an unregistered challenge in /token?relay= shows no confirm form',
    async () => {
      const challenge = relayChallengeFor('never-registered-'.padEnd(43, 'z'));
      const answer = await victim.goto(`${stack.endpoint}/token?state=s&relay=${challenge}`);
      expect(answer?.status()).toBe(404);
      expect(await victim.locator('#relay-confirm-form').count()).toBe(0);
      expect(await victim.locator('#relay-code-input').count()).toBe(0);
      expect(await victim.locator('#bundle').count()).toBe(0);
      expect(await victim.locator('#error').innerText()).toContain('unknown or has expired');
      expect(leakedToApp(stack)).toEqual([]);
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'the link alone does not confirm: the page shows who asked and when; wrong codes fail, the fifth ends the challenge and the CLI stops',
    async () => {
      const home = makeTempHome('cookie-bridge-relay-phish-');
      try {
        const { cli, url, code } = await startRelayLogin(home.home);
        // The code is only in the terminal: not in the URL, not on the page.
        expect(url).not.toContain(code.replace('-', ''));
        expect(new URL(url).searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect((await victim.goto(url))?.status()).toBe(200);
        const box = await victim.locator('#relay-box').innerText();
        expect(box).toMatch(
          /asked to receive your sign-in at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ s ago\)/,
        );
        expect(await victim.locator('#relay-forwarded-for').innerText()).toBe('127.0.0.1');
        expect(await victim.content()).not.toContain(code);

        const wrong = code.startsWith('0') ? `1${code.slice(1)}` : `0${code.slice(1)}`;
        for (let left = 4; left >= 1; left -= 1) {
          const answer = await typeCodeAndConfirm(victim, wrong);
          expect(answer.status).toBe(403);
          expect(answer.text).toContain(`(${left} ${left === 1 ? 'try' : 'tries'} left)`);
          await victim.goto(url);
        }
        const last = await typeCodeAndConfirm(victim, wrong);
        expect(last.status).toBe(410);
        expect(last.text).toContain('Too many wrong codes');

        // The CLI learns at once that its sign-in request is gone, and stores nothing.
        const result = await cli.result;
        expect(result.code).toBe(6);
        expect(result.stderr).toContain('too many wrong codes were typed on the page');
        expect(storedCredentialFiles(home.home)).toEqual([]);

        // Now even the right code cannot confirm it.
        const reopened = await victim.goto(url);
        expect(reopened?.status()).toBe(410);
        expect(await victim.locator('#relay-confirm-form').count()).toBe(0);
        expect(leakedToApp(stack)).toEqual([]);
      } finally {
        home.cleanup();
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'the right code confirms; confirming again (someone else was first) shows a warning, not a reassurance',
    async () => {
      const home = makeTempHome('cookie-bridge-relay-twice-');
      try {
        const { cli, url, code } = await startRelayLogin(home.home);
        const first = victim;
        const second = await chromium.context.newPage();
        try {
          await first.goto(url);
          await second.goto(url);
          // Typed the forgiving way: lower case, no dash.
          const confirmed = await typeCodeAndConfirm(first, code.replace('-', '').toLowerCase());
          expect(confirmed.status).toBe(200);
          expect(await first.locator('#relay-confirmed').count()).toBe(1);

          const again = await typeCodeAndConfirm(second, code);
          expect(again.status).toBe(409);
          expect(await second.locator('#relay-warning').count()).toBe(1);
          expect(await second.locator('#relay-confirmed').count()).toBe(0);
          expect(again.text).toContain('sign out at the sign-in proxy of this site now');
        } finally {
          await second.close();
        }

        const result = await cli.result;
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ via: 'relay', identity: 'victim@example.com' });
        expect(leakedToApp(stack)).toEqual([]);
      } finally {
        home.cleanup();
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'registration through the proxy is a bounded POST: per source (a forged X-Forwarded-For does not help), 503 JSON',
    async () => {
      const port = Number(new URL(stack.endpoint).port);
      const register = (index: number, forged?: string) =>
        rawRequest(port, {
          method: 'POST',
          path: '/cookie-bridge/relay/register',
          headers: {
            'content-type': 'application/json',
            ...(forged === undefined ? {} : { 'x-forwarded-for': forged }),
          },
          body: JSON.stringify({
            challenge: relayChallengeFor(`bound-${index}-`.padEnd(43, 'b')),
            code: 'K7QD-M2XW',
          }),
        });
      // A GET cannot register.
      const get = await rawRequest(port, { path: '/cookie-bridge/relay/register' });
      expect(get.status).toBe(405);
      // This test's own earlier logins are claimed or ended: the bound counts pending registrations only.
      for (let i = 0; i < MAX_PENDING_PER_SOURCE; i += 1) expect((await register(i)).status).toBe(201);
      for (const forged of [undefined, '198.51.100.1', '198.51.100.2, 198.51.100.3']) {
        const refused = await register(100, forged);
        expect(refused.status).toBe(503);
        expect(refused.headers?.['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse('body' in refused ? refused.body : '{}')).toMatchObject({
          error: 'relay_source_full',
          message: expect.stringContaining(
            'too many relay sign-ins are waiting from your address',
          ) as unknown,
        });
      }
      expect(leakedToApp(stack)).toEqual([]);
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});

describe('the CLI refuses a relayed bundle without its login state', () => {
  /** A server that offers the relay and hands out `bundle` on the first claim. */
  async function fakeRelayServer(bundle: () => string) {
    const server = http.createServer((req, res) => {
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (req.url === '/cookie-bridge/relay/info') return json(200, { relay: 1 });
      if (req.url === '/cookie-bridge/relay/register') return json(201, { status: 'registered' });
      if (req.url === '/cookie-bridge/relay/claim') return json(200, { bundle: bundle() });
      return json(404, { error: 'not_found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }

  it.each([
    ['no state', () => undefined, 'carries no login state'],
    ['another login', () => 'another-login-state', 'belongs to another login'],
  ])('%s: exit 6, nothing stored', async (_name, stateOf, message) => {
    const server = await fakeRelayServer(() => {
      const state = stateOf();
      return encodeCookieBundle({
        cookies: [{ name: '_oauth2_proxy', value: 'attacker-session' }],
        ...(state === undefined ? {} : { state }),
      });
    });
    const home = makeTempHome('cookie-bridge-relay-state-');
    try {
      const cli = startCli(
        [
          'api',
          'login',
          '-e',
          server.url,
          '--cookies',
          '--relay',
          '--no-browser',
          '--timeout',
          REAL_CLI_LOGIN_TIMEOUT_S,
        ],
        cliEnv(home.home),
      );
      const result = await cli.result;
      expect(result.code).toBe(6);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toContain('attacker-session');
      expect(storedCredentialFiles(home.home)).toEqual([]);
    } finally {
      home.cleanup();
      await server.close();
    }
  });
});
