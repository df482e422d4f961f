import type { Command } from 'commander';
import { EXIT_CODES, ExitCode } from '../errors';
import type { CliContext, CliHost, GlobalFlags } from './cli-context';
import { defineCommands, type RunAction } from './command-tree';
import { defineGlobalOptions } from './definitions/global-options';
import { parsePlainCommandLine } from './plain-command-line';
import { reportError } from './report-error';

/* Command modules are required when they run (src/cli/definitions/), so `cookie-bridge api info` does not load
   express or the login code; cli-context.ts when the first command runs. */
const loadContext = (): typeof import('./cli-context') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('./cli-context') as typeof import('./cli-context');

/* commander too, when a command line needs it: help, errors, anything plain-command-line.ts leaves to it. */
let commander: typeof import('commander') | undefined;
const loadCommander = (): typeof import('commander') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (commander ??= require('commander') as typeof import('commander'));

/** Width of the left column of the exit codes' help, the gap included. */
const EXIT_CODES_LEFT_WIDTH = 33;

/**
 * Two columns generated from EXIT_CODES (src/errors.ts), the one table of exit codes. The left column takes
 * half the rows, or more when a row that would have a neighbour on its right is too wide for the column.
 */
export function formatExitCodesHelp(): string {
  const rows = Object.entries(EXIT_CODES).map(([code, { help }]) => `${code.padEnd(2)} ${help}`);
  let half = Math.ceil(rows.length / 2);
  while (rows.slice(0, rows.length - half).some((row) => row.length > EXIT_CODES_LEFT_WIDTH - 2)) half++;
  const left = rows.slice(0, half);
  const right = rows.slice(half);
  return left
    .map((row, i) => `  ${right[i] === undefined ? row : `${row.padEnd(EXIT_CODES_LEFT_WIDTH)}${right[i]}`}`)
    .join('\n');
}

/** The end of the program's help; made when help is shown (commander calls it), not at every start. */
const exitCodesHelp = (): string => `
Exit codes:
${formatExitCodesHelp()}

Environment:
  COOKIE_BRIDGE_HOME      where credentials live (default: the platform config folder)
  COOKIE_BRIDGE_ENDPOINT  endpoint used when -e is not given
  COOKIE_BRIDGE_TOKEN     service-account token; overrides any stored credential
  COOKIE_BRIDGE_CA_BUNDLE CA certificates (PEM file) trusted for every endpoint, beside the system's
                          and NODE_EXTRA_CA_CERTS (HTTPS with a private CA; see also --cacert)
  BROWSER                 command that opens the sign-in URL (receives it as last argument)
  https_proxy, HTTPS_PROXY  forward proxy for https:// (http://[user:pass@]host:port), as curl reads them
  http_proxy, HTTP_PROXY  forward proxy for http:// (lower case wins; HTTP_PROXY ignored under CGI)
  all_proxy, ALL_PROXY    forward proxy when the scheme's own variable is not set
  no_proxy, NO_PROXY      hosts that go direct: a.com,.b.com,10.0.0.0/8,::1,host:port or *`;

/** The host with its outputs settled: the entry's, or the process's streams. */
type ResolvedHost = CliHost & Required<Pick<CliHost, 'stdout' | 'stderr'>>;

/** What the error handler needs to know about the run: the global flags and the context, once parsed. */
interface CliRun {
  flags: GlobalFlags;
  context: CliContext | undefined;
}

/**
 * Runs one command line and resolves to its exit code; never rejects. Every error, from commander, a command
 * or the wiring, goes through the one top-level handler (reportError).
 */
export async function runCli(argv: string[], version = '0.0.0', given: CliHost = {}): Promise<number> {
  // The entry gives its fd outputs (terminal-output.ts); tests and library callers get the process's streams.
  const host: ResolvedHost = {
    ...given,
    stdout: given.stdout ?? process.stdout,
    stderr: given.stderr ?? process.stderr,
  };
  const state: CliRun = { flags: {}, context: undefined };
  try {
    return await runProgram(argv, version, state, host);
  } catch (error) {
    if (commander !== undefined && error instanceof commander.CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.Ok;
      if (error.code === 'commander.help') return ExitCode.Ok;
      return ExitCode.Usage;
    }
    return reportError(error, {
      stdout: host.stdout,
      stderr: host.stderr,
      json: state.flags.json === true,
      debug: state.context?.debug ?? state.flags.debug === true,
    });
  }
}

async function runProgram(
  argv: string[],
  version: string,
  state: CliRun,
  host: ResolvedHost,
): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const getContext = (): CliContext => {
    if (state.context === undefined) {
      state.context = loadContext().createCliContext(state.flags, host);
      if (host.codeCache !== undefined) state.context.logger.debug(`start: code cache ${host.codeCache}`);
    }
    return state.context;
  };

  const run: RunAction =
    (action) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      state.flags = command.optsWithGlobals() as GlobalFlags;
      exitCode = (await action(getContext(), ...(args.slice(0, -1) as never[]))) ?? ExitCode.Ok;
    };

  const plain = parsePlainCommandLine(argv.slice(2), run);
  if (plain !== undefined) {
    await plain();
    return exitCode;
  }
  const program = createProgram(version, host);
  defineCommands(program, run, argv.slice(2));
  await program.parseAsync(argv);
  return exitCode;
}

/**
 * The program without its commands (command-tree.ts adds them): its description, version, global options
 * (--debug, --cacert: every command's help lists them), the help's end, and output through the host's.
 */
export function createProgram(
  version: string,
  output: Pick<ResolvedHost, 'stdout' | 'stderr'> = { stdout: process.stdout, stderr: process.stderr },
): Command {
  const program = new (loadCommander().Command)('cookie-bridge')
    .description(
      'Use HTTP APIs that sit behind a browser cookie auth proxy (oauth2-proxy, mod_auth_openidc, nginx auth_request)\nfrom the terminal, scripts and Node: sign in once with the browser, then replay the session.',
    )
    .version(version, '-V, --version');
  return (
    defineGlobalOptions(program)
      // Every command's --help lists --debug and --cacert too.
      .configureHelp({ showGlobalOptions: true })
      .addHelpText('after', exitCodesHelp)
      .showHelpAfterError('(run with --help for usage)')
      .configureOutput({
        writeOut: (text) => output.stdout.write(text),
        writeErr: (text) => output.stderr.write(text),
      })
      .exitOverride()
  );
}
