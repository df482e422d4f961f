/**
 * The OpenID provider fixture's launcher (fixtures/real-components/oidc-provider.ts): a start that stalls or
 * fails says how far the fixture got (its last `stage` line on stderr) and what its process was doing, and the
 * signing key is made once per process instead of in each provider. The stall is made on purpose with the
 * fixture's test-only OIDC_PROVIDER_FIXTURE_HALT_AFTER, and the launcher's wait runs only once the fixture has
 * halted, so no assertion depends on how fast the machine is.
 */
import { get } from 'node:http';

import { COMPONENT_START_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { startChild, type ChildHandle } from '../../fixtures/real-components/child-process-handle';
import {
  OIDC_PROVIDER_FIXTURE,
  startOidcProvider,
  waitForIssuer,
  type RunningOidcProvider,
} from '../../fixtures/real-components/oidc-provider';
import { pollUntil } from '../kit/poll-until';

const CLIENTS = JSON.stringify([
  {
    client_id: 'launcher-test',
    client_secret: 'launcher-test-secret',
    redirect_uris: ['http://127.0.0.1:9/cb'],
  },
]);

/** The fixture started by hand (as the launcher does), with `env` on top of this process's environment. */
function startFixture(env: NodeJS.ProcessEnv): ChildHandle {
  return startChild({
    name: 'oidc-provider',
    command: process.execPath,
    args: [OIDC_PROVIDER_FIXTURE, '--port', '0'],
    env: { ...process.env, ...env },
  });
}

/** GET a JSON document from a loopback URL. */
function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: HTTP_REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.once('error', reject);
  });
}

describe('the OpenID provider launcher', () => {
  const children: ChildHandle[] = [];
  const providers: RunningOidcProvider[] = [];

  afterEach(async () => {
    await Promise.all([...children.splice(0), ...providers.splice(0)].map((each) => each.stop()));
  });

  it.each(['options-parsed', 'listening', 'signing-key-start', 'provider-constructed'])(
    'names the last stage when the fixture stalls after %s',
    async (stage) => {
      const child = startFixture({ OIDC_PROVIDER_CLIENTS: CLIENTS, OIDC_PROVIDER_FIXTURE_HALT_AFTER: stage });
      children.push(child);
      await pollUntil(`the fixture reaching stage ${stage}`, COMPONENT_START_TIMEOUT_MS, () =>
        Promise.resolve(child.stderr().includes(`stage ${stage} +`) ? true : undefined),
      );
      // The fixture has halted for good: the launcher's wait, with no time left, must give up and say where.
      const error = await waitForIssuer(child, 0).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(Error);
      const message = (error as Error).message;
      expect(message).toMatch(/^oidc-provider printed no issuer within 0 ms \(\d+ ms since spawn; /);
      expect(message).toMatch(new RegExp(`; last stage: ${stage} \\+\\d+ ms; `));
      expect(message).toMatch(/; process: [RSD] \([a-z /]+\), \d+\.\d\d s CPU; /);
      expect(message).toMatch(/; longest pause of this process between two looks: \d+ ms\)\n/);
      // The tail of its output follows, with the stage line the diagnosis came from.
      expect(message).toContain(`oidc-provider fixture: stage ${stage} +`);
    },
  );

  it('names the last stage and the exit when the fixture fails before it is ready', async () => {
    const child = startFixture({ OIDC_PROVIDER_CLIENTS: '' });
    children.push(child);
    const error = await waitForIssuer(child, COMPONENT_START_TIMEOUT_MS).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^oidc-provider exited \(code 2, signal null\) before it was ready \(/);
    expect(message).toMatch(/; last stage: imported \+\d+ ms; process: state unknown; /);
    expect(message).toContain('OIDC_PROVIDER_CLIENTS is required');
  });

  it('starts providers that sign with one key made once per process, each reaching every stage', async () => {
    const clients = [{ client_id: 'launcher-test', redirect_uris: ['http://127.0.0.1:9/cb'] }];
    for (let i = 0; i < 2; i += 1) providers.push(await startOidcProvider({ clients }));
    const [first, second] = providers;
    if (first === undefined || second === undefined) throw new Error('two providers expected');
    expect(first.issuer).not.toBe(second.issuer);

    for (const provider of providers) {
      const stages = [...provider.logs().matchAll(/oidc-provider fixture: stage (\S+) \+\d+/g)].map(
        (match) => match[1],
      );
      expect(stages).toEqual([
        'imported',
        'options-parsed',
        'listen-called',
        'listening',
        'signing-key-start',
        'signing-key-end',
        'provider-constructed',
      ]);
    }

    const moduli = await Promise.all(
      providers.map(async (provider) => {
        const jwks = (await getJson(`${provider.issuer}/jwks`)) as {
          keys: Array<{ kid: string; n: string }>;
        };
        expect(jwks.keys).toHaveLength(1);
        return jwks.keys[0]?.n;
      }),
    );
    expect(moduli[0]).toMatch(/^[A-Za-z0-9_-]{300,}$/);
    expect(moduli[1]).toBe(moduli[0]);
  });
});
