// Issue 12, the multi-replica relay login end to end: Chromium → Apache mod_auth_openidc (oidc-provider; the
// relay prefix exempt, as the README recipe says) → a real nginx load balancer → two replicas of the built
// `cookie-bridge serve` → the demo API. The load balancer sends the claim (`= /cookie-bridge/relay/claim`) to
// replica B and everything else (relay info and register, the /token page, its confirm) to replica A, so the
// confirm and the claim always land on different processes.
//   - with `--relay-store redis://…` (one real redis-server) the login completes;
//   - the same run with `--relay-store memory` (the old default) cannot finish: B never saw the challenge, so
//     the CLI's claim gets 404 and the login ends with E_RELAY_GONE. That is the bug the Redis store fixes.
// Each replica's own --debug log and nginx's access log (upstream=…) show which replica answered what.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { cliEnv, makeTempHome, runCli, startCli, type CliResult } from '../kit/cli-runner';
import { jsonOf, withDiagnostics, type LogSource } from '../kit/e2e-diagnostics';
import {
  apacheOidcRedirectUri,
  findFreePort,
  realComponentsAvailable,
  REAL_BROWSER_TEST_TIMEOUT_MS,
  REAL_CLI_LOGIN_TIMEOUT_S,
  CHROMIUM_LOGIN_DRIVER_TIMEOUT_MS,
  REAL_SETUP_TIMEOUT_MS,
  runChromiumBrowser,
  startApacheOidcProxy,
  startNginxLoadBalancer,
  startOidcProvider,
  startRedisServer,
  type ChromiumBrowserResult,
  type RunningComponent,
  type RunningOidcProvider,
  type RunningRedisServer,
  type ServeSidecar,
} from '../kit/real-components';
import { startServeReplicas, stopServeReplicas, waitForReplicaLog } from '../kit/serve-replicas';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const CLIENT_ID = 'cookie-bridge-replicas-e2e';
const CLIENT_SECRET = randomBytes(16).toString('hex');
const PREFIX = 'replicas-e2e:relay:';

/** One deployment: two replicas on one store, the load balancer in front, Apache in front of that. */
interface Deployment {
  replicaA: ServeSidecar;
  replicaB: ServeSidecar;
  balancer: RunningComponent;
  apache: RunningComponent;
}

interface RelayLoginRun {
  browser: ChromiumBrowserResult;
  result: CliResult;
}

describeReal('relay login across two serve replicas behind a load balancer and a real auth proxy', () => {
  let workDir: string;
  let demoApi: RunningDemoApi | undefined;
  let redis: RunningRedisServer | undefined;
  let provider: RunningOidcProvider | undefined;
  const replicas: ServeSidecar[] = [];
  const components: RunningComponent[] = [];
  let shared: Deployment | undefined;
  let memory: Deployment | undefined;
  let sharedPort = 0;
  let memoryPort = 0;

  const sources = (deployment: Deployment | undefined, name: string): LogSource[] => [
    { name: `${name}: serve replica A`, logs: () => deployment?.replicaA.logs() ?? '(not started)' },
    { name: `${name}: serve replica B`, logs: () => deployment?.replicaB.logs() ?? '(not started)' },
    { name: `${name}: nginx load balancer`, logs: () => deployment?.balancer.logs() ?? '(not started)' },
    { name: `${name}: apache2`, logs: () => deployment?.apache.logs() ?? '(not started)' },
    { name: 'oidc-provider', logs: () => provider?.logs() ?? '(not started)' },
    { name: 'redis-server', logs: () => redis?.logs() ?? '(not started)' },
  ];

  async function deploy(storeArgs: string[], apachePort: number): Promise<Deployment> {
    const [replicaA, replicaB] = await startServeReplicas(2, demoApi?.url ?? '', storeArgs);
    replicas.push(replicaA!, replicaB!);
    const balancer = await startNginxLoadBalancer({
      routes: [
        { location: '= /cookie-bridge/relay/claim', replicas: [replicaB!.url] },
        { location: '/', replicas: [replicaA!.url] },
      ],
    });
    components.push(balancer);
    const apache = await startApacheOidcProxy({
      issuer: provider?.issuer ?? '',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      upstream: balancer.url,
      port: apachePort,
      exemptPaths: ['/cookie-bridge/relay/'],
    });
    components.push(apache);
    return { replicaA: replicaA!, replicaB: replicaB!, balancer, apache };
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'cookie-bridge-replicas-'));
    demoApi = await startDemoApi();
    redis = await startRedisServer();
    sharedPort = await findFreePort();
    memoryPort = await findFreePort();
    provider = await startOidcProvider({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [apacheOidcRedirectUri(sharedPort), apacheOidcRedirectUri(memoryPort)],
        },
      ],
    });
    shared = await deploy(['--relay-store', redis.url, '--relay-store-prefix', PREFIX], sharedPort);
    memory = await deploy(['--relay-store', 'memory'], memoryPort);
    for (const replica of [shared.replicaA, shared.replicaB]) {
      await waitForReplicaLog(replica, /relay store: redis:\/\/127\.0\.0\.1:\d+ \(prefix [^)]+\): connected/);
    }
  }, REAL_SETUP_TIMEOUT_MS);

  afterAll(async () => {
    for (const component of components.splice(0).reverse()) await component.stop();
    await stopServeReplicas(replicas);
    await provider?.stop();
    await redis?.stop();
    await demoApi?.close();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  }, REAL_SETUP_TIMEOUT_MS);

  /** `api login --relay --no-browser`; Chromium ("on another machine") signs in and types the code. */
  async function relayLogin(endpoint: string, home: string, login: string): Promise<RelayLoginRun> {
    const cli = startCli(
      [
        'api',
        'login',
        '-e',
        endpoint,
        '--relay',
        '--no-browser',
        '--json',
        '--timeout',
        REAL_CLI_LOGIN_TIMEOUT_S,
      ],
      cliEnv(home),
    );
    try {
      const [printed] = await cli.waitForStderr(/http:\/\/127\.0\.0\.1:\d+\/token\?\S+/);
      const code = (await cli.waitForStderr(/Confirmation code: (\S+)/))[1] ?? '';
      const browser = await runChromiumBrowser(printed, {
        CHROMIUM_BROWSER_WAIT_FOR: 'relay',
        CHROMIUM_BROWSER_CODE: code,
        CHROMIUM_BROWSER_LOGIN: login,
        CHROMIUM_BROWSER_LOG: join(workDir, `${login}.browser.log`),
        CHROMIUM_BROWSER_TIMEOUT_MS: CHROMIUM_LOGIN_DRIVER_TIMEOUT_MS,
      });
      if (browser.code !== 0) cli.child.kill('SIGTERM');
      return { browser, result: await cli.result };
    } catch (error) {
      cli.child.kill('SIGTERM');
      throw error;
    }
  }

  /** The balancer's access-log lines for `path`, as "STATUS upstream=HOST:PORT". */
  function routed(balancer: RunningComponent, path: string): string[] {
    return balancer
      .logs()
      .split('\n')
      .filter((line) => line.includes(`"POST ${path} `) || line.includes(`"GET ${path}`))
      .map((line) => /" (\d{3}) (upstream=\S+)/.exec(line)?.slice(1).join(' ') ?? line);
  }
  const upstreamOf = (replica: ServeSidecar): string => `upstream=${new URL(replica.url).host}`;

  it(
    'with a shared Redis store: the page and confirm on replica A, the claim on replica B, and the login completes',
    async () => {
      const deployment = shared!;
      const endpoint = deployment.apache.url;
      const home = makeTempHome('cookie-bridge-replicas-redis-');
      try {
        const run = await relayLogin(endpoint, home.home, 'alice');
        const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], cliEnv(home.home));
        withDiagnostics({ sources: sources(deployment, 'redis'), cli: [run.result, whoami] }, () => {
          expect({
            code: run.browser.code,
            stderr: run.browser.code === 0 ? '' : run.browser.stderr,
          }).toEqual({
            code: 0,
            stderr: '',
          });
          expect(run.result.code).toBe(0);
          expect(jsonOf(run.result)).toMatchObject({ via: 'relay', identity: 'alice@example.com' });
          expect(whoami.code).toBe(0);
          expect(jsonOf(whoami)).toEqual({ user: 'alice@example.com' });

          // Which replica answered what, from each one's own log…
          const logA = deployment.replicaA.logs();
          const logB = deployment.replicaB.logs();
          expect(logA).toContain('relay: a sign-in request was registered');
          expect(logA).toMatch(/\/token: bundle of \d+ cookie\(s\)/);
          expect(logA).toMatch(/\/token\/relay: .*confirmed/);
          expect(logA).not.toContain('relay: a confirmed sign-in was claimed');
          expect(logB).toContain('relay: a confirmed sign-in was claimed');
          expect(logB).not.toContain('/token');
          expect(logB).not.toContain('registered');
          // …and from the load balancer's: the claim went to B only, the confirm to A only.
          const claims = routed(deployment.balancer, '/cookie-bridge/relay/claim');
          expect(claims.length).toBeGreaterThan(0);
          expect(claims.every((line) => line.endsWith(upstreamOf(deployment.replicaB)))).toBe(true);
          expect(claims).toContain(`200 ${upstreamOf(deployment.replicaB)}`);
          expect(routed(deployment.balancer, '/token/relay')).toEqual([
            expect.stringMatching(new RegExp(`^\\d{3} ${upstreamOf(deployment.replicaA)}$`)) as unknown,
          ]);
        });
      } finally {
        home.cleanup();
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'the same run with --relay-store memory cannot finish: replica B does not know the challenge, the claim gets 404 (E_RELAY_GONE)',
    async () => {
      const deployment = memory!;
      const endpoint = deployment.apache.url;
      const home = makeTempHome('cookie-bridge-replicas-memory-');
      try {
        const run = await relayLogin(endpoint, home.home, 'bob');
        withDiagnostics({ sources: sources(deployment, 'memory'), cli: run.result }, () => {
          expect(run.result.code).not.toBe(0);
          expect(jsonOf(run.result)).toMatchObject({ ok: false, error: { code: 'E_RELAY_GONE' } });
          expect(deployment.replicaA.logs()).toContain('relay: a sign-in request was registered');
          expect(deployment.replicaB.logs()).not.toContain('relay: a confirmed sign-in was claimed');
          expect(routed(deployment.balancer, '/cookie-bridge/relay/claim')).toEqual([
            `404 ${upstreamOf(deployment.replicaB)}`,
          ]);
        });
        const whoami = await runCli(['request', '-e', endpoint, '/api/whoami'], cliEnv(home.home));
        expect(whoami.code).toBe(3);
      } finally {
        home.cleanup();
      }
    },
    REAL_BROWSER_TEST_TIMEOUT_MS,
  );
});
