/**
 * The CLI as shipped: package.json's `bin` is the esbuild bundle (scripts/build-cli.mjs), and each command
 * loads only what it uses (heavy dependencies are separate bundles, required on first use).
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as nodeModule from 'node:module';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import { resolveConfigHome } from '../../src/store/config-home';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { CLI_PATH, REPO_ROOT, cliEnv, makeTempHome, runCli } from '../kit/cli-runner';

const RECORDER = path.join(REPO_ROOT, 'test', 'kit', 'module-load-recorder.js');
const HEAVY_BUNDLES = ['undici', 'tough-cookie', 'express', 'http-proxy-middleware', 'ioredis'];

interface Loaded {
  files: string[];
  builtins: string[];
  /** Node's internal modules (`internal/…`). */
  internals: string[];
  /** The process's threads at exit (null off Linux). */
  threads: number | null;
}

/**
 * Node's fs.promises (internal/fs/promises, which loads readline, fs/dir and the watchers) stays unloaded: the
 * store reads through src/store/fs-calls.ts. internal/fs/utils, which node:fs always loads, shows the list
 * was recorded.
 */
function expectNoFsPromises(loaded: Loaded): void {
  expect(loaded.internals).toContain('internal/fs/utils');
  expect(loaded.internals).not.toContain('internal/fs/promises');
}

describe('the bundled CLI', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let api: RunningDemoApi;
  /** An API whose /api/health rotates the session cookie (Set-Cookie on every answer), on 127.0.0.1. */
  let rotating: { server: http.Server; url: string; cookies: string[] };
  const store = (): FileCredentialStore =>
    new FileCredentialStore({ home: resolveConfigHome(cliEnv(temp.home)) });
  const saveCookieLogin = (endpoint: string): Promise<void> =>
    store().saveLogin(
      {
        endpoint,
        auth: { type: 'cookies' },
        identity: 'dev@example.com',
        loggedInAt: new Date(0).toISOString(),
      },
      [{ name: '_oauth2_proxy', value: 'bundle-test-session' }],
    );
  beforeAll(async () => {
    temp = makeTempHome();
    api = await startDemoApi();
    const cookies: string[] = [];
    const server = http.createServer((req, res) => {
      cookies.push(req.headers.cookie ?? '');
      res.setHeader('set-cookie', '_oauth2_proxy=rotated-session; Path=/; HttpOnly');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ok', user: 'dev@example.com' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    rotating = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cookies };
    await saveCookieLogin(api.url);
    await saveCookieLogin(rotating.url);
  });
  afterAll(async () => {
    await api.close();
    await new Promise<void>((resolve) => rotating.server.close(() => resolve()));
    temp.cleanup();
  });

  /** Runs the CLI with the recorder preloaded; returns the result and what the process loaded. */
  async function runRecorded(
    args: string[],
  ): Promise<{ code: number | null; stdout: string; stderr: string } & Loaded> {
    const modulesFile = path.join(temp.home, `modules-${args.join('-').replace(/\W+/g, '_')}.json`);
    const result = await runCli(
      args,
      cliEnv(temp.home, {
        NODE_OPTIONS: `--require ${JSON.stringify(RECORDER)}`,
        COOKIE_BRIDGE_TEST_MODULES_FILE: modulesFile,
      }),
    );
    return { ...result, ...(JSON.parse(readFileSync(modulesFile, 'utf8')) as Loaded) };
  }

  const entry = path.relative(REPO_ROOT, CLI_PATH);
  const core = path.join(path.dirname(entry), 'cli-core.js');
  const ours = (files: string[]): string[] =>
    files.filter((file) => file !== RECORDER).map((file) => path.relative(REPO_ROOT, file));
  const bundle = (name: string): string =>
    path.join(path.dirname(path.relative(REPO_ROOT, CLI_PATH)), 'vendor', `${name}.js`);

  it('bin is an executable bundled file under dist/, with its #! line', () => {
    const { bin } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(path.join(REPO_ROOT, bin['cookie-bridge'] ?? '')).toBe(CLI_PATH);
    expect(path.relative(REPO_ROOT, CLI_PATH)).toMatch(/^dist\//);
    accessSync(CLI_PATH, constants.X_OK);
    expect(readFileSync(CLI_PATH, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('ioredis is a vendor bundle of its own (serve with a Redis relay store requires it on use)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const vendor = require(path.join(REPO_ROOT, bundle('ioredis'))) as typeof import('ioredis');
    expect(typeof vendor.Redis).toBe('function');
    // Its code (the connectors) is in its bundle, not inlined into the core one.
    expect(readFileSync(path.join(REPO_ROOT, bundle('ioredis')), 'utf8')).toMatch(/StandaloneConnector/);
    expect(readFileSync(path.join(REPO_ROOT, core), 'utf8')).not.toMatch(/StandaloneConnector/);
  });

  it('--version and -V print the version and read only the entry file (not the core bundle, no node:child_process)', async () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const result = await runRecorded([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${version}\n`);
      expect(ours(result.files)).toEqual([entry]);
      for (const name of ['child_process', 'net', 'tty', 'stream'])
        expect(result.builtins).not.toContain(name);
    }
  });

  it('--help runs from the bundle and lists the commands', async () => {
    const result = await runRecorded(['--help']);
    expect(result.code).toBe(0);
    for (const word of ['api', 'request', 'proxy', 'serve', 'exec', 'completion', 'Exit codes']) {
      expect(result.stdout).toContain(word);
    }
    expect(ours(result.files)).toEqual([entry, core]);
  });

  it("a mistyped option is still commander's: its message, the usage hint, exit 2", async () => {
    const result = await runRecorded(['api', 'info', '--offlin', '-e', api.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: unknown option '--offlin'\n(Did you mean --offline?)");
    expect(result.stderr).toContain('(run with --help for usage)');
    expect(ours(result.files)).toEqual([entry, core]);
  });

  it('the core bundle fills its export namespaces on first require (src/cli/deferred-export-namespaces.ts)', () => {
    const source = readFileSync(path.join(REPO_ROOT, core), 'utf8');
    expect(source).toMatch(/__deferExport\(errors_exports,\(\)=>\(\{/);
    expect(source).not.toMatch(/__export\([\w$]+_exports/);
  });

  it("dist/cli has its own package.json, so Node does not parse the project's at every start", () => {
    const own = path.join(path.dirname(CLI_PATH), 'package.json');
    expect(JSON.parse(readFileSync(own, 'utf8'))).toEqual({ type: 'commonjs' });
  });

  it('api info --offline reads the stored login without undici, tough-cookie, express, node:http/tls or fs.promises', async () => {
    const result = await runRecorded(['api', 'info', '--offline', '--json', '-e', api.url]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ endpoint: api.url, credential: 'cookie-jar' });
    expect(ours(result.files)).toEqual([entry, core]);
    expectNoFsPromises(result);
    // node:crypto neither: the endpoint folder's hash is plain JS, certificates are parsed on demand. No
    // stream objects for stdout and stderr (net, tty, stream: written with write(2), terminal-output.ts), no
    // node:os ($HOME is set), no node:stream (the HTTP client is made on first use).
    for (const name of [
      'http',
      'https',
      'tls',
      'crypto',
      'http2',
      'child_process',
      'zlib',
      'worker_threads',
      'net',
      'tty',
      'stream',
      'os',
    ]) {
      expect(result.builtins).not.toContain(name);
    }
  });

  it('api info with its server check uses node:http (and the jar) on demand: no undici, no express', async () => {
    const result = await runRecorded(['api', 'info', '--json', '-e', api.url]);
    expect(result.stdout).toContain(`"endpoint": "${api.url}"`);
    expect(JSON.parse(result.stdout)).toMatchObject({ endpoint: api.url });
    const files = ours(result.files);
    expect(files).not.toContain(bundle('undici'));
    expect(files).not.toContain(bundle('express'));
    expect(files).not.toContain(bundle('http-proxy-middleware'));
    expect(files).not.toContain(bundle('ioredis'));
    // undici's HTTP/2 client is never used: node:http2 stays unloaded (a stand-in in the bundle).
    expect(result.builtins).not.toContain('http2');
    expect(result.builtins).toContain('http');
    // Every file it loaded is ours: the main bundle and vendor bundles, never node_modules one file at a time.
    for (const file of files)
      expect(file).toMatch(
        new RegExp(`^dist/cli/(cookie-bridge|cli-core|vendor/(${HEAVY_BUNDLES.join('|')}))\\.js$`),
      );
  });

  it('a command with a bundle of its own loads it on use; the core holds the short commands only', async () => {
    const completion = await runRecorded(['completion', 'bash']);
    expect(completion.code).toBe(0);
    expect(completion.stdout).toContain('complete -F');
    expect(ours(completion.files)).toEqual([
      entry,
      core,
      path.join(path.dirname(entry), 'completion-command.js'),
    ]);
    const serveHelp = await runRecorded(['serve', '--help']);
    expect(serveHelp.code).toBe(0);
    // --help needs the command's definition and commander (the core), not the command's code.
    expect(ours(serveHelp.files)).toEqual([entry, core]);
    expect(statSync(path.join(REPO_ROOT, core)).size).toBeLessThan(300 * 1024);
  });

  it('one copy of each module: command bundles take the core’s (one error class for instanceof, one client)', () => {
    const dir = path.join(REPO_ROOT, path.dirname(entry));
    const files = readdirSync(dir).filter((name) => name.endsWith('-command.js'));
    expect(files.sort()).toEqual(
      [
        'completion-command.js',
        'exec-command.js',
        'login-command.js',
        'proxy-command.js',
        'serve-command.js',
        'service-account-command.js',
        'users-command.js',
      ].sort(),
    );
    const defining = (pattern: RegExp): string[] =>
      ['cli-core.js', ...files].filter((name) => pattern.test(readFileSync(path.join(dir, name), 'utf8')));
    expect(defining(/CookieBridgeError=class[{ ]/)).toEqual(['cli-core.js']);
    expect(defining(/function createHttpClient\(/)).toEqual(['cli-core.js']);
    expect(defining(/FileCredentialStore=class[{ ]/)).toEqual(['cli-core.js']);
    // commander is in the core only, wrapped so that its code runs on its first require (the plain command
    // lines never require it: test/integration/plain-command-line-runs.test.ts).
    expect(defining(/Command=class _Command extends/)).toEqual(['cli-core.js']);
    expect(readFileSync(path.join(dir, 'cli-core.js'), 'utf8')).toMatch(/var require_commander=__commonJS\(/);
    for (const name of files)
      expect(readFileSync(path.join(dir, name), 'utf8')).toContain('require("./cli-core.js").coreModule(');
  });

  describe('V8 code cache of the core bundle', () => {
    const nodeHasCompileCache =
      typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';
    let cacheHome: string;
    const cacheFolder = (): string => path.join(cacheHome, 'cookie-bridge', 'compile-cache');
    const cacheFiles = (): string[] =>
      existsSync(cacheFolder()) ? readdirSync(cacheFolder()).filter((name) => name.endsWith('.v8cache')) : [];
    const run = (args: string[], extra: Record<string, string> = {}): ReturnType<typeof runCli> =>
      runCli(args, cliEnv(temp.home, { XDG_CACHE_HOME: cacheHome, ...extra }));
    const debugLine = (stderr: string): string | undefined =>
      stderr.split('\n').find((line) => line.includes('start: code cache'));

    beforeEach(() => {
      cacheHome = mkdtempSync(path.join(temp.home, 'cache-'));
    });

    it('the first start writes it (0600, folder 0700, named for the build and Node), the next one takes it', async () => {
      const first = await run(['--debug', 'api', 'info', '--offline', '-e', api.url]);
      expect(first.code).toBe(0);
      if (nodeHasCompileCache) {
        // Node >= 22.1 caches the bundle itself (compile-cache.ts): no file of ours, no line.
        expect(cacheFiles()).toEqual([]);
        expect(debugLine(first.stderr)).toBeUndefined();
        return;
      }
      expect(debugLine(first.stderr)).toContain('code cache missing');
      const [file] = cacheFiles();
      expect(cacheFiles()).toHaveLength(1);
      expect(file).toMatch(
        new RegExp(
          `^cli-core\\.[0-9a-f]{16}\\.${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8cache$`,
        ),
      );
      expect(statSync(path.join(cacheFolder(), file ?? '')).mode & 0o777).toBe(0o600);
      expect(statSync(cacheFolder()).mode & 0o777).toBe(0o700);
      const second = await run(['--debug', 'api', 'info', '--offline', '--json', '-e', api.url]);
      expect(second.code).toBe(0);
      expect(debugLine(second.stderr)).toContain('code cache used');
      expect(JSON.parse(second.stdout)).toMatchObject({ endpoint: api.url, credential: 'cookie-jar' });
    });

    it('`request` changes V8 flags: its cache is written before, so the next start still takes it', async () => {
      const request = await run(['request', '-e', api.url, '/api/health', '-s']);
      expect(request.code).toBe(0);
      expect(request.stdout).toContain('"status"');
      const next = await run(['--debug', 'api', 'info', '--offline', '-e', api.url]);
      expect(next.code).toBe(0);
      if (nodeHasCompileCache) expect(debugLine(next.stderr)).toBeUndefined();
      else expect(debugLine(next.stderr)).toContain('code cache used');
    });

    it('a corrupted cache is not used: the command works, --debug says so, and a good one replaces it', async () => {
      await run(['api', 'info', '--offline', '-e', api.url]);
      if (nodeHasCompileCache) {
        expect(cacheFiles()).toEqual([]);
        return;
      }
      const file = path.join(cacheFolder(), cacheFiles()[0] ?? '');
      const stored = readFileSync(file);
      const at = stored.length - 100;
      stored.writeUInt8(stored.readUInt8(at) ^ 0xff, at);
      writeFileSync(file, stored);
      const damaged = await run(['--debug', 'api', 'info', '--offline', '--json', '-e', api.url]);
      expect(damaged.code).toBe(0);
      expect(JSON.parse(damaged.stdout)).toMatchObject({ endpoint: api.url });
      expect(debugLine(damaged.stderr)).toContain('code cache corrupt');
      const next = await run(['--debug', 'api', 'info', '--offline', '-e', api.url]);
      expect(debugLine(next.stderr)).toContain('code cache used');
    });

    it('NODE_DISABLE_COMPILE_CACHE=1 turns it off: nothing read, nothing written', async () => {
      const result = await run(['--debug', 'api', 'info', '--offline', '-e', api.url], {
        NODE_DISABLE_COMPILE_CACHE: '1',
      });
      expect(result.code).toBe(0);
      expect(debugLine(result.stderr)).toBeUndefined();
      expect(cacheFiles()).toEqual([]);
    });
  });

  it('api info whose server check gets no Set-Cookie builds the Cookie header without tough-cookie or fs.promises', async () => {
    const result = await runRecorded(['api', 'info', '--json', '-e', api.url]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ server: { state: 'ok', status: 200 } });
    expect(ours(result.files)).toEqual([entry, core]);
    expect(result.builtins).not.toContain('crypto');
    expectNoFsPromises(result);
    // The entry takes the CommonJS Module class where node:module has no compile cache to enable
    // (compile-cache.ts nodeModuleApi): requiring node:module would load the source-map modules too.
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    if (major < 22 || (major === 22 && minor < 1)) {
      expect(result.builtins).not.toContain('module');
      expect(result.internals).not.toContain('internal/source_map/source_map');
    }
  });

  it("the short commands read the store without libuv's thread pool: no more threads than a bare node", async () => {
    // The store's reads are synchronous (src/store/fs-calls.ts): the first promised fs call would start
    // the pool's 4 threads. The same node with the same recorder and nothing to do is the baseline.
    const bareFile = path.join(temp.home, 'modules-bare-node.json');
    execFileSync(process.execPath, ['--require', RECORDER, '-e', ''], {
      env: { ...process.env, COOKIE_BRIDGE_TEST_MODULES_FILE: bareFile },
    });
    const bare = (JSON.parse(readFileSync(bareFile, 'utf8')) as Loaded).threads;
    expect(typeof bare).toBe('number'); // Linux (CI): /proc/self/task
    const runs = [
      ['api', 'info', '--offline', '-e', api.url],
      ['api', 'info', '-e', api.url],
      ['api', 'header', '-e', api.url],
      ['api', 'cookies', '-e', api.url],
    ];
    for (const args of runs) {
      const result = await runRecorded(args);
      expect({ args, code: result.code, threads: result.threads }).toEqual({ args, code: 0, threads: bare });
    }
  });

  it('api header and api cookies read the jar without tough-cookie or fs.promises', async () => {
    const header = await runRecorded(['api', 'header', '-e', api.url]);
    expect(header.code).toBe(0);
    expect(header.stdout).toBe('Cookie: _oauth2_proxy=bundle-test-session\n');
    expect(ours(header.files)).toEqual([entry, core]);
    expectNoFsPromises(header);
    const cookies = await runRecorded(['api', 'cookies', '-e', api.url]);
    expect(cookies.code).toBe(0);
    expect(ours(cookies.files)).toEqual([entry, core]);
    expectNoFsPromises(cookies);
  });

  it('api info whose server check answers Set-Cookie loads tough-cookie then, and the jar takes the new value', async () => {
    const result = await runRecorded(['api', 'info', '--json', '-e', rotating.url]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ server: { state: 'ok', status: 200 } });
    // The check sent the stored session (built without tough-cookie), and the answer's cookie was saved.
    expect(rotating.cookies.at(-1)).toBe('_oauth2_proxy=bundle-test-session');
    expect(ours(result.files)).toContain(bundle('tough-cookie'));
    await expect(store().getCookieHeader(rotating.url, new URL(rotating.url))).resolves.toBe(
      '_oauth2_proxy=rotated-session',
    );
  });
});
