/**
 * src/cli/plain-command-line.ts parses the plain command lines without commander. Whatever it accepts must
 * run the same command with the same options and arguments as commander would (the whole tree defined,
 * test/kit/commander-outcome.ts), and whatever commander refuses or answers itself (help, version, errors)
 * it must leave to commander. Checked on the corpus of test/kit/commander-outcome.ts and on command lines
 * generated from each command's own options and arguments, as commander defines them.
 */
import { Argument, Command, Option } from 'commander';
import fc from 'fast-check';
import {
  COMMAND_TREE,
  defineAllCommands,
  invokedCommandPath,
  type CommandNode,
  type RunAction,
} from '../../src/cli/command-tree';
import { NotRecordableError, RecordedArgument, RecordedOption } from '../../src/cli/command-recorder';
import { parsePlainCommandLine } from '../../src/cli/plain-command-line';
import { createProgram } from '../../src/cli/run-cli';
import { COMMAND_LINES, parseWithCommander, type Outcome } from '../kit/commander-outcome';

/** What the plain parser runs for `args` (as commander-outcome's `ran`), or undefined: left to commander. */
async function parsePlain(args: string[]): Promise<Outcome['ran'] | 'left to commander'> {
  let ran: Outcome['ran'];
  const run: RunAction =
    () =>
    async (...values: unknown[]): Promise<void> => {
      const command = values[values.length - 1] as { optsWithGlobals(): Record<string, unknown> };
      const path = invokedCommandPath(args, createProgram('9.9.9').options);
      ran = {
        path: (path ?? []).map((node) => node.name).join(' '),
        options: command.optsWithGlobals(),
        args: values.slice(0, -2),
      };
      await Promise.resolve();
    };
  const plain = parsePlainCommandLine(args, run);
  if (plain === undefined) return 'left to commander';
  await plain();
  if (ran === undefined) throw new Error(`the plain parse of ${JSON.stringify(args)} ran nothing`);
  return ran;
}

/** Accepted lines run what commander runs, with no output; the rest are commander's. */
async function expectSameAsCommander(args: string[]): Promise<boolean> {
  const plain = await parsePlain(args);
  if (plain === 'left to commander') return false;
  const commander = await parseWithCommander(args, defineAllCommands);
  expect({ args, ...commander }).toEqual({ args, ran: plain, stdout: '', stderr: '' });
  return true;
}

/** Every command that runs something, with its words (`api service-account create`) and commander's view of it. */
function leaves(): Array<{ words: string[]; command: Command }> {
  const program = createProgram('9.9.9');
  defineAllCommands(program, () => async () => undefined);
  const found: Array<{ words: string[]; command: Command }> = [];
  const walk = (command: Command, words: string[], nodes: readonly CommandNode[]): void => {
    for (const node of nodes) {
      const child = command.commands.find((candidate) => candidate.name() === node.name);
      if (child === undefined) throw new Error(`${node.name} is not defined`);
      if (node.children === undefined) found.push({ words: [...words, node.name], command: child });
      else walk(child, [...words, node.name], node.children);
    }
  };
  walk(program, [], COMMAND_TREE);
  return found;
}

const VALUES = [
  'x',
  'https://api.example.com',
  'http://127.0.0.1:8080',
  '/api/items',
  '-',
  '-x',
  '--json',
  '--debug',
  '5',
  '0',
  '-1',
  'netscape',
  'json',
  'header',
  'admin',
  'user',
  'bash',
  'tcsh',
  '',
  'a=b',
  '30d',
  'Accept: text/plain',
  'api',
  'info',
];

/** Words a command line of `command` may hold: its options in every spelling, the program's, junk. */
function wordsFor(command: Command): fc.Arbitrary<string[]> {
  const value = fc.constantFrom(...VALUES);
  const optionWords = (option: Option): fc.Arbitrary<string[]>[] => {
    const names = [option.long, option.short].filter((name): name is string => name !== undefined);
    return names.flatMap((name) =>
      option.required || option.optional
        ? [
            value.map((v) => [name, v]),
            value.map((v) => [`${name}=${v}`]),
            value.map((v) => [`${name}${v}`]),
            fc.constant([name]),
          ]
        : [fc.constant([name]), fc.constant([`${name}=yes`])],
    );
  };
  const program = createProgram('9.9.9');
  return fc.oneof(
    { weight: 6, arbitrary: fc.oneof(...command.options.flatMap(optionWords)) },
    { weight: 2, arbitrary: fc.oneof(...program.options.flatMap(optionWords)) },
    { weight: 2, arbitrary: value.map((v) => [v]) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('--bogus', '-z', '-ij', '--', '-h', '--help', 'help', '--no-json')
        .map((word) => [word]),
    },
  );
}

describe('the recorder reads flags and arguments as commander does', () => {
  it.each([
    '-e, --endpoint <url>',
    '--data-file <file>',
    '-X, --request <method>',
    '-H,--header <header>',
    '--port|-p <n>',
    '--all',
    '-s',
    '--dry-run',
    '--token-file <file>',
  ])('%s', (flags) => {
    const commander = new Option(flags);
    const recorded = new RecordedOption(flags);
    expect({
      short: recorded.short,
      long: recorded.long,
      required: recorded.required,
      attribute: recorded.attribute,
    }).toEqual({
      short: commander.short,
      long: commander.long,
      required: commander.required,
      attribute: commander.attributeName(),
    });
  });

  it.each(['<path-or-url>', '[shell]', 'identity'])('argument %s', (name) => {
    expect(new RecordedArgument(name).required).toBe(new Argument(name).required);
  });

  it.each(['--no-browser', '--level [n]', '--files <file...>'])(
    'refuses what it does not model: %s',
    (flags) => {
      expect(() => new RecordedOption(flags)).toThrow(NotRecordableError);
    },
  );
});

describe('parsing the plain command lines without commander', () => {
  // Their definitions use what the recorder does not model: login --no-browser, serve's variadic options,
  // exec's variadic command, completion the whole tree.
  const NOT_PLAIN = ['api login', 'serve', 'exec', 'completion'];
  it.each(COMMAND_LINES.map((args) => [args]))(
    '%j: parsed as commander parses it when commander runs it quietly, else left to commander',
    async (args) => {
      const commander = await parseWithCommander(args, defineAllCommands);
      const runsQuietly =
        commander.ran !== undefined &&
        commander.stdout === '' &&
        commander.stderr === '' &&
        !NOT_PLAIN.includes(commander.ran.path);
      expect(await expectSameAsCommander(args)).toBe(runsQuietly);
    },
  );

  it.each([
    [['api', 'info', '-e', 'https://api.example.com', '--json']],
    [['--debug', 'api', 'info', '--offline', '--endpoint=http://127.0.0.1:8080']],
    [['api', 'info', '--check', '--debug', '--cacert', 'ca.pem']],
    [['api', 'header', '--force', '-e', 'https://api.example.com']],
    [['api', 'cookies', '--format', 'json', '-o', 'out.json']],
    [['api', 'logout', '--json', '-e', 'http://127.0.0.1:8080']],
    [['request', '/api/items', '-H', 'A: 1', '-H', 'B: 2', '-X', 'POST', '-d', '{}', '-i', '--timeout', '5']],
    [['request', '-s', '--data-file', '-', '/api/upload']],
    [['api', 'users', 'set-role', 'bob@example.com', 'admin', '--json']],
  ])('%j is parsed without commander, as commander parses it', async (args) => {
    expect(await expectSameAsCommander(args)).toBe(true);
  });

  it.each([
    [['api', 'info', '--help'], 'help'],
    [['-V'], 'the version'],
    [['api', 'info', '--bogus'], 'an unknown option'],
    [['api', 'info', '-e', '--json'], 'a value that looks like an option'],
    [['api', 'info', '-ehttps://x'], 'a value glued to a short option'],
    [['api', 'cookies', '--format', 'yaml'], 'a value outside the choices'],
    [['request', '/x', '--timeout', 'zero'], 'a value its parser refuses'],
    [['request'], 'a missing argument'],
    [['api', 'info', 'extra'], 'an extra argument'],
    [['api', 'service-account', 'create'], 'a missing required option'],
    [['api', 'login', '-e', 'https://x'], 'a command with --no-browser (not modelled)'],
    [['exec', '--', 'npm', 'test'], '--'],
    [['completion', 'bash'], 'a command that reads the whole tree'],
  ])('%j is left to commander (%s)', async (args) => {
    expect(await parsePlain(args)).toBe('left to commander');
  });

  // 250 generated lines per command; each accepted one is compared with commander's parse.
  it.each(leaves().map(({ words, command }) => [words.join(' '), words, command] as const))(
    '%s: generated command lines run what commander runs, or are left to it',
    async (_name, words, command) => {
      let accepted = 0;
      const declared = command.registeredArguments;
      const required = declared.filter((argument) => argument.required).length;
      await fc.assert(
        fc.asyncProperty(
          fc.array(wordsFor(command), { maxLength: 6 }),
          // Mostly as many operands as the command takes, before or after the options; sometimes one more.
          fc.array(fc.constantFrom(...VALUES), { minLength: required, maxLength: declared.length + 1 }),
          fc.boolean(),
          fc.subarray(['--debug', '--cacert=ca.pem']),
          async (parts, operands, operandsFirst, leading) => {
            const options = parts.flat();
            const rest = operandsFirst ? [...operands, ...options] : [...options, ...operands];
            if (await expectSameAsCommander([...leading, ...words, ...rest])) accepted += 1;
          },
        ),
        { numRuns: 250 },
      );
      // The short commands are what the plain parser is for: some of their random lines (about 12 %; the
      // others hold junk on purpose) must be its, or the comparison above would prove nothing.
      if (['api info', 'api header', 'api cookies', 'api logout', 'request'].includes(words.join(' ')))
        expect(accepted).toBeGreaterThanOrEqual(10);
    },
  );
});
