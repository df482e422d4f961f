import * as childProcess from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/context';
import { openBrowser } from '../../src/login/browser-opener';

const URL_TO_OPEN = 'https://api.example.test/token?local_port=43210&state=abc';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => warnings.push(message),
  };
}

/** Wraps the real spawn so the test can wait on the child's exit event. */
function spawnRecorder(): {
  spawn: typeof childProcess.spawn;
  exited: () => Promise<unknown>;
  child: () => childProcess.ChildProcess;
} {
  let child: childProcess.ChildProcess | undefined;
  let exited: Promise<unknown> | undefined;
  const spawn = ((command: string, args: string[], options: childProcess.SpawnOptions) => {
    child = childProcess.spawn(command, args, options);
    exited = once(child, 'exit');
    return child;
  }) as unknown as typeof childProcess.spawn;
  return {
    spawn,
    exited: () => exited ?? Promise.reject(new Error('nothing was spawned')),
    child: () => {
      if (child === undefined) throw new Error('nothing was spawned');
      return child;
    },
  };
}

/** A fake child process: emits 'spawn' (or 'error') on the next tick. */
function fakeSpawn(outcome: 'spawn' | Error): { spawn: typeof childProcess.spawn; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const spawn = ((...args: unknown[]) => {
    calls.push(args);
    const child = Object.assign(new EventEmitter(), { pid: 1234, unref: () => undefined });
    process.nextTick(() => (outcome === 'spawn' ? child.emit('spawn') : child.emit('error', outcome)));
    return child;
  }) as unknown as typeof childProcess.spawn;
  return { spawn, calls };
}

describe('openBrowser with $BROWSER', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cookie-bridge-browser-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function script(name: string, body: string): string {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  test('runs the command with its own arguments and the URL last; its stdout is not the CLI’s', async () => {
    const out = join(dir, 'opened.txt');
    const browser = script(
      'browser.sh',
      'for last; do :; done\nprintf "%s|%s" "$1" "$last" > "$OUT_FILE"\necho noise',
    );
    const recorder = spawnRecorder();
    const logger = recordingLogger();

    await openBrowser(URL_TO_OPEN, {
      env: { ...process.env, BROWSER: `${browser}  --new-window`, OUT_FILE: out },
      logger,
      spawn: recorder.spawn,
      openPackage: () => Promise.reject(new Error('must not be used')),
    });
    expect(recorder.child().stdout).toBeNull();
    await recorder.exited();

    expect(readFileSync(out, 'utf8')).toBe(`--new-window|${URL_TO_OPEN}`);
    expect(logger.warnings).toEqual([]);
  });

  test('a non-zero exit is a warning to open the URL by hand', async () => {
    const recorder = spawnRecorder();
    const logger = recordingLogger();
    await openBrowser(URL_TO_OPEN, {
      env: { ...process.env, BROWSER: script('fails.sh', 'exit 3') },
      logger,
      spawn: recorder.spawn,
    });
    await recorder.exited();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/exited with code 3; open the URL above by hand/);
    expect(logger.warnings[0]).not.toContain('state=abc');
  });

  test('a command that cannot be started is a warning, not an error', async () => {
    const logger = recordingLogger();
    await expect(
      openBrowser(URL_TO_OPEN, { env: { BROWSER: join(dir, 'no-such-browser') }, logger }),
    ).resolves.toBeUndefined();
    expect(logger.warnings).toHaveLength(1);
    expect(logger.warnings[0]).toMatch(/could not start \$BROWSER .*ENOENT.*open the URL above by hand/);
  });

  test('passes arguments without a shell, replaces %s, and keeps stdout away from the CLI', async () => {
    const fake = fakeSpawn('spawn');
    const env = { BROWSER: 'firefox --new-tab %s --private', HOME: '/home/x' };
    await openBrowser(URL_TO_OPEN, { env, logger: recordingLogger(), spawn: fake.spawn });
    expect(fake.calls).toHaveLength(1);
    const [command, args, options] = fake.calls[0] as [string, string[], childProcess.SpawnOptions];
    expect(command).toBe('firefox');
    expect(args).toEqual(['--new-tab', URL_TO_OPEN, '--private']);
    expect(options.shell).toBeUndefined();
    expect(options.env).toBe(env);
    expect(Array.isArray(options.stdio) && options.stdio[1]).toBe('ignore');
  });

  test('a spawn that throws is a warning', async () => {
    const logger = recordingLogger();
    const spawn = (() => {
      throw Object.assign(new Error('bad'), { code: 'EINVAL' });
    }) as unknown as typeof childProcess.spawn;
    await openBrowser(URL_TO_OPEN, { env: { BROWSER: 'x' }, logger, spawn });
    expect(logger.warnings).toEqual([expect.stringContaining('EINVAL')]);
  });
});

describe('openBrowser with the open package', () => {
  test('loads it lazily and calls it with the URL when $BROWSER is unset or blank', async () => {
    for (const env of [{}, { BROWSER: '  ' }]) {
      const opened: string[] = [];
      let loads = 0;
      const spawn = fakeSpawn('spawn');
      await openBrowser(URL_TO_OPEN, {
        env,
        logger: recordingLogger(),
        spawn: spawn.spawn,
        openPackage: async () => {
          loads += 1;
          return async (url) => opened.push(url);
        },
      });
      expect(loads).toBe(1);
      expect(opened).toEqual([URL_TO_OPEN]);
      expect(spawn.calls).toHaveLength(0);
    }
  });

  test.each([
    ['the package does not load', () => Promise.reject(new Error('Cannot find module'))],
    [
      'opening fails',
      () => Promise.resolve(() => Promise.reject(Object.assign(new Error('x'), { code: 'ENOENT' }))),
    ],
  ])('%s: a warning, never a throw', async (_name, openPackage) => {
    const logger = recordingLogger();
    await expect(openBrowser(URL_TO_OPEN, { env: {}, logger, openPackage })).resolves.toBeUndefined();
    expect(logger.warnings).toEqual([
      expect.stringMatching(/could not open a browser .*open the URL above by hand/),
    ]);
  });

  test('a launcher that exits non-zero (xdg-open without a browser) is a warning', async () => {
    const logger = recordingLogger();
    const launcher = Object.assign(new EventEmitter(), { pid: 99 });
    await openBrowser(URL_TO_OPEN, { env: {}, logger, openPackage: async () => async () => launcher });
    expect(logger.warnings).toEqual([]);
    launcher.emit('exit', 3, null);
    expect(logger.warnings).toEqual([expect.stringContaining('exited with code 3')]);
  });
});
