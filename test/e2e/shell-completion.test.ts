/**
 * `cookie-bridge completion bash|zsh|fish` in the real shells: the scripts the built CLI prints are loaded
 * the way the README says, and asked what to offer after a few command lines. They must offer the commands,
 * subcommands and options of the CLI, and the stored endpoints after -e (which the scripts get from the
 * hidden `cookie-bridge completion --endpoints`, from disk).
 *
 * bash has no way to run programmable completion without a terminal, so the test sets COMP_LINE,
 * COMP_POINT, COMP_WORDS and COMP_CWORD as bash does (COMP_WORDS split at blanks, ':' and '=') and calls
 * the function. zsh's completion widgets need a terminal too: the script's function runs in real zsh with
 * `words`/`CURRENT` set and the completion builtins it calls (_describe, compadd, _files…) replaced by
 * functions that print what they were given. fish answers `complete -C` without a terminal: that is the
 * real completion engine.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { completionScript } from '../../src/cli/completion/completion-script';
import { FileCredentialStore } from '../../src/store/file-credential-store';
import { REAL_COMPONENT_PATHS, requireComponent } from '../kit/real-components';
import { CLI_PATH, cliEnv, makeTempHome, runCli } from '../kit/cli-runner';

const execFileAsync = promisify(execFile);
const ENDPOINTS = ['http://127.0.0.1:4180', 'http://127.0.0.1:4181'];
// At least these (the lists grow with the CLI: the scripts are generated from it); never a hidden one.
const TOP_LEVEL = ['api', 'request', 'proxy', 'serve', 'exec', 'completion'];
const API_COMMANDS = ['login', 'info', 'logout', 'header', 'service-account', 'users'];

const haveZsh = requireComponent('zsh', REAL_COMPONENT_PATHS.zsh);
const haveFish = requireComponent('fish', REAL_COMPONENT_PATHS.fish);

/** COMP_WORDS as bash makes them: split at blanks, and at ':' and '=' (in COMP_WORDBREAKS) as words of their own. */
function bashWords(line: string): string[] {
  const words = line.split(/\s+/).flatMap((word) => word.split(/([:=])/).filter((part) => part !== ''));
  if (line === '' || /\s$/.test(line)) words.push('');
  return words;
}

const BASH_DRIVER = `
source "$1"
COMP_LINE=$2
COMP_POINT=\${#2}
shift 2
COMP_WORDS=("$@")
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
_cookie_bridge
printf '%s\\n' "\${COMPREPLY[@]}"`;

/** Stand-ins for zsh's completion builtins: each prints what it would have offered. */
const ZSH_DRIVER = `
compdef() { :; }
compset() { :; }
_describe() { local -a items; items=("\${(@P)\${@[-1]}}"); print -rl -- "\${items[@]}"; }
compadd() { print -rl -- "\${@[(r)--,-1][2,-1]}"; }
_files() { print -r -- '<files>'; }
_command_names() { print -r -- '<commands>'; }
source "$1"
words=("\${@[2,-1]}")
CURRENT=\${#words}
_cookie_bridge`;

describe('shell completion', () => {
  let temp: ReturnType<typeof makeTempHome>;
  let env: NodeJS.ProcessEnv;
  const scripts: Record<string, string> = {};

  beforeAll(async () => {
    temp = makeTempHome();
    // `cookie-bridge` on PATH, as an installed CLI is: the scripts call it for the stored endpoints
    const bin = path.join(temp.home, 'bin');
    mkdirSync(bin);
    writeFileSync(
      path.join(bin, 'cookie-bridge'),
      `#!/bin/sh\nexec '${process.execPath}' '${CLI_PATH}' "$@"\n`,
      { mode: 0o755 },
    );
    env = cliEnv(temp.home, { PATH: `${bin}:${process.env.PATH ?? ''}` });
    const store = new FileCredentialStore({ home: path.join(temp.home, 'cookie-bridge') });
    for (const endpoint of ENDPOINTS) {
      await store.saveLogin({ endpoint, auth: { type: 'token', token: 'svc-secret' }, loggedInAt: 'x' });
    }
    for (const shell of ['bash', 'zsh', 'fish']) {
      const printed = await runCli(['completion', shell], env);
      expect(printed.code).toBe(0);
      scripts[shell] = path.join(temp.home, `completion.${shell}`);
      writeFileSync(scripts[shell], printed.stdout);
    }
  });
  afterAll(() => temp.cleanup());

  it('lists the stored endpoints, one a line, and nothing secret (the hidden --endpoints)', async () => {
    const listed = await runCli(['completion', '--endpoints'], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe(`${ENDPOINTS.join('\n')}\n`);
    const help = await runCli(['completion', '--help'], env);
    expect(help.stdout).not.toContain('--endpoints');
    expect(help.stdout).toContain('source <(cookie-bridge completion bash)');
  });

  describe('bash', () => {
    const complete = async (line: string): Promise<string[]> => {
      const { stdout } = await execFileAsync(
        'bash',
        ['-c', BASH_DRIVER, 'bash', scripts.bash!, line, ...bashWords(line)],
        { env },
      );
      return stdout.split('\n').filter((word) => word !== '');
    };

    it('is valid bash', async () => {
      await expect(execFileAsync('bash', ['-n', scripts.bash!])).resolves.toBeDefined();
    });

    it('offers the commands, subcommands and options', async () => {
      expect(await complete('cookie-bridge ')).toEqual(expect.arrayContaining(TOP_LEVEL));
      expect(await complete('cookie-bridge api ')).toEqual(expect.arrayContaining(API_COMMANDS));
      expect(await complete('cookie-bridge api lo')).toEqual(['login', 'logout']);
      // the admin commands, two levels down, with their options and choices
      expect((await complete('cookie-bridge api service-account ')).sort()).toEqual([
        'create',
        'list',
        'revoke',
        'rotate-key',
      ]);
      expect(await complete('cookie-bridge api users ')).toEqual(['list', 'set-role']);
      expect(await complete('cookie-bridge api service-account create --')).toEqual(
        expect.arrayContaining(['--name', '--role', '--expires', '--endpoint', '--json']),
      );
      expect(await complete('cookie-bridge api service-account create --role ')).toEqual(['admin', 'user']);
      const requestOptions = await complete('cookie-bridge request --');
      expect(requestOptions).toEqual(
        expect.arrayContaining(['--endpoint', '--header', '--data-file', '--debug']),
      );
      expect(requestOptions).not.toContain('--port');
      expect(await complete('cookie-bridge exec --')).toEqual(
        expect.arrayContaining(['--endpoint', '--port', '--secret']),
      );
      expect(await complete('cookie-bridge completion ')).toEqual(['bash', 'zsh', 'fish']);
      expect(await complete('cookie-bridge completion --')).not.toContain('--endpoints');
    });

    it('offers the stored endpoints after -e and --endpoint=, as bash splits URLs at ":"', async () => {
      expect(await complete('cookie-bridge request -e ')).toEqual(ENDPOINTS);
      expect(await complete('cookie-bridge --debug proxy --endpoint ht')).toEqual(ENDPOINTS);
      // bash replaces only the word after the last ':'
      expect(await complete('cookie-bridge api info -e http://127.0.0.1:418')).toEqual(['4180', '4181']);
      // `--endpoint=` ends in the word '=', which the answer replaces
      expect(await complete('cookie-bridge exec --endpoint=')).toEqual(ENDPOINTS.map((e) => `=${e}`));
      expect(await complete('cookie-bridge exec --endpoint=http')).toEqual(ENDPOINTS);
      // an option value is skipped: the command after it is still recognised
      expect(await complete('cookie-bridge api logout -e http://127.0.0.1:4180 --')).toContain('--json');
    });

    it('offers the system commands after exec --', async () => {
      expect(await complete('cookie-bridge exec -- bas')).toContain('bash');
      expect(await complete('cookie-bridge exec -e http://127.0.0.1:4180 -- bas')).toContain('bash');
    });
  });

  (haveZsh ? describe : describe.skip)('zsh', () => {
    const complete = async (line: string): Promise<string[]> => {
      const words = line.split(/\s+/);
      const { stdout } = await execFileAsync(
        REAL_COMPONENT_PATHS.zsh,
        ['-f', '-c', ZSH_DRIVER, 'zsh', scripts.zsh!, ...words],
        { env },
      );
      return stdout.split('\n').filter((word) => word !== '');
    };

    it('is valid zsh', async () => {
      await expect(execFileAsync(REAL_COMPONENT_PATHS.zsh, ['-n', scripts.zsh!])).resolves.toBeDefined();
    });

    it('offers the commands with their descriptions, the options, and the stored endpoints', async () => {
      const top = await complete('cookie-bridge ');
      expect(top.map((item) => item.split(':')[0])).toEqual(expect.arrayContaining(TOP_LEVEL));
      expect(top).toContain('api:log in to an endpoint, inspect and forget credentials');
      expect((await complete('cookie-bridge api ')).map((item) => item.split(':')[0])).toEqual(
        expect.arrayContaining(API_COMMANDS),
      );
      const options = (await complete('cookie-bridge proxy -')).map((item) => item.split(':')[0]);
      expect(options).toEqual(expect.arrayContaining(['-e', '--endpoint', '--port', '--secret', '--debug']));
      expect(await complete('cookie-bridge request -e ')).toEqual(ENDPOINTS);
      expect(await complete('cookie-bridge completion ')).toEqual(['bash', 'zsh', 'fish']);
      expect(await complete('cookie-bridge request --data-file ')).toEqual(['<files>']);
      expect(await complete('cookie-bridge exec -- ')).toEqual(['<commands>']);
    });
  });

  (haveFish ? describe : describe.skip)('fish', () => {
    /** fish's own `complete -C`: candidate → description. */
    const complete = async (line: string): Promise<Map<string, string>> => {
      const { stdout } = await execFileAsync(
        REAL_COMPONENT_PATHS.fish,
        ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', scripts.fish!, line],
        { env },
      );
      return new Map(
        stdout
          .split('\n')
          .filter((row) => row !== '')
          .map((row) => [row.split('\t')[0] ?? '', row.split('\t')[1] ?? ''] as const),
      );
    };

    it('is valid fish', async () => {
      await expect(execFileAsync(REAL_COMPONENT_PATHS.fish, ['-n', scripts.fish!])).resolves.toBeDefined();
    });

    it('offers the commands, subcommands, options and stored endpoints', async () => {
      const top = await complete('cookie-bridge ');
      expect([...top.keys()]).toEqual(expect.arrayContaining(TOP_LEVEL));
      expect(top.get('exec')).toMatch(/^Run a command with a local forwarding proxy/);
      expect([...(await complete('cookie-bridge api ')).keys()]).toEqual(
        expect.arrayContaining(API_COMMANDS),
      );
      const options = await complete('cookie-bridge api login --');
      expect([...options.keys()]).toEqual(expect.arrayContaining(['--endpoint', '--token-file', '--debug']));
      expect([...(await complete('cookie-bridge api service-account ')).keys()].sort()).toEqual([
        'create',
        'list',
        'revoke',
        'rotate-key',
      ]);
      expect([...(await complete('cookie-bridge request -e ')).keys()]).toEqual(ENDPOINTS);
      expect([...(await complete('cookie-bridge proxy --endpoint=')).keys()]).toEqual(
        ENDPOINTS.map((endpoint) => `--endpoint=${endpoint}`),
      );
      expect([...(await complete('cookie-bridge completion ')).keys()].sort()).toEqual([
        'bash',
        'fish',
        'zsh',
      ]);
      expect([...(await complete('cookie-bridge exec -- bas')).keys()]).toContain('bash');
    });
  });

  it('keeps quotes, $(…) and backticks in descriptions as text in every shell', async () => {
    const marker = path.join(temp.home, 'ran');
    const program = new Command('cookie-bridge');
    program.command('quoted').description(`It's $(touch ${marker}) \`touch ${marker}\` "quoted"`);
    program.command('plain').option('-e, --endpoint <url>', "the endpoint's URL");
    const shells: Array<['bash' | 'zsh', string, string[]]> = [
      ['bash', 'bash', ['-c', BASH_DRIVER, 'bash', '<file>', 'cookie-bridge ', 'cookie-bridge', '']],
    ];
    if (haveZsh) {
      shells.push([
        'zsh',
        REAL_COMPONENT_PATHS.zsh,
        ['-f', '-c', ZSH_DRIVER, 'zsh', '<file>', 'cookie-bridge', ''],
      ]);
    }
    for (const [shell, binary, args] of shells) {
      const file = path.join(temp.home, `quoted.${shell}`);
      writeFileSync(file, completionScript(shell, program));
      const { stdout } = await execFileAsync(
        binary,
        args.map((arg) => (arg === '<file>' ? file : arg)),
        { env },
      );
      expect(stdout).toContain('quoted');
      if (shell === 'zsh') expect(stdout).toContain(`quoted:It's $(touch ${marker})`);
    }
    if (haveFish) {
      const file = path.join(temp.home, 'quoted.fish');
      writeFileSync(file, completionScript('fish', program));
      const { stdout } = await execFileAsync(
        REAL_COMPONENT_PATHS.fish,
        ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', file, 'cookie-bridge '],
        { env },
      );
      expect(stdout).toContain(`quoted\tIt's $(touch ${marker}) \`touch ${marker}\` "quoted"`);
    }
    expect(existsSync(marker)).toBe(false);
  });
});
