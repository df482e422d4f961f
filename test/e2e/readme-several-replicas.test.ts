// The README's "Several replicas" section, run as written where it can be on one machine: its serve command
// line (the built CLI) with only the host names, the secret files and the listening address swapped for this
// test's own (loopback, port 0), against a real redis-server with a password. It must start, print the
// start-up line the section tells operators to watch, and take a relay registration.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cliEnv, makeTempHome, REPO_ROOT, startCli } from '../kit/cli-runner';
import { startRecordingApp, type RecordingApp } from '../kit/recording-app';
import {
  realComponentsAvailable,
  REAL_SETUP_TIMEOUT_MS,
  startRedisServer,
  type RunningRedisServer,
} from '../kit/real-components';
import { claimRelay, newRelayHttpLogin, registerRelay } from '../kit/relay-http-login';

const describeReal = realComponentsAvailable() ? describe : describe.skip;
const PASSWORD = 'readme-redis-pw-0123';
const PROXY_SECRET = 'readme-proxy-secret-0123456789abcdef';

/** The README's text from `#### Several replicas` to the next heading. */
function severalReplicasSection(): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('#### Several replicas');
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n#', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describeReal("the README's Several replicas section", () => {
  let redis: RunningRedisServer | undefined;
  let app: RecordingApp | undefined;
  let dir: string;

  beforeAll(async () => {
    redis = await startRedisServer({ password: PASSWORD });
    app = await startRecordingApp();
    dir = mkdtempSync(join(tmpdir(), 'cookie-bridge-readme-'));
  }, REAL_SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await app?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, REAL_SETUP_TIMEOUT_MS);

  it(
    'its serve command starts, prints the documented start-up line, and takes relay registrations',
    async () => {
      const section = severalReplicasSection();
      const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
      const lines = block
        .replace(/\\\n\s*/g, ' ')
        .trim()
        .split('\n');
      expect(lines).toHaveLength(2);
      const exported = /^export COOKIE_BRIDGE_RELAY_STORE=(\S+)$/.exec(lines[0]!)?.[1] ?? '';
      const words = lines[1]!.split(/\s+/);
      expect(words[0]).toBe('cookie-bridge');
      expect(words[1]).toBe('serve');

      // Only what cannot be used here is swapped, each exactly once.
      const redisHostPort = new URL(exported).host;
      const storeUrl = exported.replace(redisHostPort, `127.0.0.1:${redis!.port}`);
      const proxySecretFile = join(dir, 'proxy-secret');
      const passwordFile = join(dir, 'redis-password');
      writeFileSync(proxySecretFile, `${PROXY_SECRET}\n`, { mode: 0o600 });
      writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
      const swaps: Record<string, string> = {
        'http://app:3000': app!.url,
        '0.0.0.0': '127.0.0.1',
        '/run/secrets/proxy-secret': proxySecretFile,
        '/run/secrets/redis-password': passwordFile,
      };
      const args = words.slice(1).map((word) => swaps[word] ?? word);
      for (const [from, to] of Object.entries(swaps)) {
        expect({ from, uses: args.filter((word) => word === to).length }).toEqual({ from, uses: 1 });
      }

      const home = makeTempHome('cookie-bridge-readme-serve-');
      const serve = startCli(
        [...args, '--port', '0'],
        cliEnv(home.home, { COOKIE_BRIDGE_RELAY_STORE: storeUrl }),
      );
      try {
        const [, base] = await serve.waitForStderr(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
        // The start-up line as the section quotes it, with this Redis's host and port.
        const documented = /`(cookie-bridge serve: relay store: [^`]+: connected)`/.exec(
          section.replace(/\s*\n\s*/g, ' '),
        )?.[1];
        expect(documented).toBeDefined();
        const expected = documented!.replace(redisHostPort, `127.0.0.1:${redis!.port}`);
        await serve.waitForStderr(/relay store: .*\n/);
        expect(serve.stderrSoFar()).toContain(`${expected}\n`);

        const login = newRelayHttpLogin(1);
        expect((await registerRelay(base!, login)).status).toBe(201);
        expect((await claimRelay(base!, login)).status).toBe(202);
        expect(serve.stderrSoFar()).not.toContain(PASSWORD);
      } finally {
        serve.child.kill('SIGTERM');
        await serve.result;
        home.cleanup();
      }
    },
    REAL_SETUP_TIMEOUT_MS,
  );
});
