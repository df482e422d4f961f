import { Command, CommanderError } from 'commander';
import type { TextOutput } from '../../src/context';
import type { RunAction } from '../../src/cli/command-tree';
import { createProgram } from '../../src/cli/run-cli';

/*
 * Parsing a command line with commander, the way run-cli.ts does, with actions that record what would run
 * instead of running it: for the tests that compare another way of defining or parsing the commands with it
 * (test/unit/command-tree.test.ts, test/unit/plain-command-line.test.ts).
 */

/** What one command line did: the command it ran with its options and arguments, or how it failed. */
export interface Outcome {
  ran?: { path: string; options: Record<string, unknown>; args: unknown[] };
  error?: { kind: string; code?: string; message: string };
  stdout: string;
  stderr: string;
}

const collector = (): TextOutput & { text: string } => {
  const output = {
    text: '',
    write(chunk: string | Uint8Array): boolean {
      output.text += chunk.toString();
      return true;
    },
  };
  return output;
};

/** Parses `args` with the commands `define` adds; the actions record what would run instead of running it. */
export async function parseWithCommander(
  args: string[],
  define: (program: Command, run: RunAction) => void,
): Promise<Outcome> {
  const stdout = collector();
  const stderr = collector();
  const program = createProgram('9.9.9', { stdout, stderr });
  let ran: Outcome['ran'];
  const run: RunAction =
    () =>
    async (...values: unknown[]): Promise<void> => {
      const command = values[values.length - 1] as Command;
      const names: string[] = [];
      for (let c: Command | null = command; c !== null && c.parent !== null; c = c.parent)
        names.unshift(c.name());
      ran = { path: names.join(' '), options: command.optsWithGlobals(), args: values.slice(0, -2) };
      await Promise.resolve();
    };
  define(program, run);
  try {
    await program.parseAsync(['node', 'cookie-bridge', ...args]);
  } catch (error) {
    const e = error as Error & { code?: string };
    return {
      error: {
        kind: error instanceof CommanderError ? 'commander' : e.name,
        ...(e.code === undefined ? {} : { code: e.code }),
        message: e.message,
      },
      stdout: stdout.text,
      stderr: stderr.text,
    };
  }
  return { ...(ran === undefined ? {} : { ran }), stdout: stdout.text, stderr: stderr.text };
}

/** Command lines that run, fail on a value, miss something, or ask for help, across every command. */
export const COMMAND_LINES: string[][] = [
  ['api', 'info', '--offline', '-e', 'https://api.example.com'],
  ['api', 'info', '--json', '--check'],
  ['api', 'info', '--all'],
  ['--debug', 'api', 'info', '--offline'],
  ['api', 'info', '--debug', '--offline'],
  ['--cacert', 'ca.pem', 'api', 'header', '--force'],
  ['--cacert=ca.pem', 'api', 'header'],
  ['api', 'info', '--bogus'],
  ['api', 'info', 'extra-word'],
  ['api', 'logout', '--json', '-e', 'http://127.0.0.1:8080'],
  ['api', 'cookies', '--format', 'json', '-o', 'out.json'],
  ['api', 'cookies', '--format', 'yaml'],
  ['api', 'login', '-e', 'https://api.example.com', '--no-browser', '--timeout', '60'],
  ['api', 'login', '-e', 'https://api.example.com', '--relay', '--port', '4000'],
  ['api', 'login', '--cookies'],
  ['api', 'login', '-e', 'https://x', '--token-stdin', '--password-stdin'],
  ['api', 'login', '-e', 'https://x', '--timeout', '-1'],
  ['api', 'service-account', 'create', '--name', 'ci', '--role', 'admin', '--expires', '30d'],
  ['api', 'service-account', 'create', '--name', 'ci', '--expires', 'soon'],
  ['api', 'service-account', 'create', '--role', 'root'],
  ['api', 'service-account', 'list', '--json'],
  ['api', 'service-account', 'revoke', 'nightly-ci'],
  ['api', 'service-account', 'rotate-key'],
  ['api', 'users', 'list'],
  ['api', 'users', 'set-role', 'bob@example.com', 'admin'],
  ['api', 'users', 'set-role', 'bob@example.com', 'king'],
  ['request', '/api/items', '-H', 'A: 1', '-H', 'B: 2', '-X', 'POST', '-d', '{}', '-i', '--timeout', '5'],
  ['request'],
  ['request', '/x', '--timeout', 'zero'],
  ['proxy', '--port', '4001', '--secret', '--workers', '2'],
  ['proxy', '--port', '70000'],
  ['proxy', '--workers', '0'],
  ['serve', '--upstream', 'http://127.0.0.1:3000', '--port', '0', '--trusted-proxy', 'none'],
  ['serve', '--port', '8080'],
  ['serve', '--upstream', 'http://127.0.0.1:3000', '--port', 'x'],
  ['exec', '--', 'sh', '-c', 'echo $COOKIE_BRIDGE_URL'],
  ['exec', '--port', '4002', '--', 'npm', 'test', '--', '--help'],
  ['completion', 'bash'],
  ['completion', 'tcsh'],
  ['api', 'info', '--help'],
  ['request', '-h'],
  ['api'],
  ['api', 'service-account'],
  ['api', 'inf'],
  ['reqest', '/x'],
  ['help', 'api'],
  ['api', 'help', 'info'],
  ['--debug'],
  ['--cacert'],
  ['-V', 'api', 'info'],
  ['--version', 'request', '/x'],
  ['--debug=yes', 'api', 'info'],
  [],
];
