import { Command } from 'commander';
import {
  COMMAND_TREE,
  defineAllCommands,
  defineCommands,
  invokedCommandPath,
} from '../../src/cli/command-tree';
import { createProgram } from '../../src/cli/run-cli';
import { COMMAND_LINES, parseWithCommander as parse } from '../kit/commander-outcome';

describe('invokedCommandPath', () => {
  const names = (args: string[]): string | undefined =>
    invokedCommandPath(args, createProgram('9.9.9').options)
      ?.map((node) => node.name)
      .join(' ');

  it.each([
    [['api', 'info', '--offline'], 'api info'],
    [['--debug', 'api', 'header'], 'api header'],
    [['--cacert', 'api', 'api', 'cookies'], 'api cookies'],
    [['--cacert=ca.pem', 'request', '/x'], 'request'],
    [['api', 'service-account', 'revoke', 'ci'], 'api service-account revoke'],
    [['api', 'users', 'set-role', 'a', 'admin'], 'api users set-role'],
    [['serve', '--upstream', 'http://x'], 'serve'],
    [['-V', 'api', 'info'], 'api info'],
  ])('%j runs %s', (args, expected) => {
    expect(names(args)).toBe(expected);
  });

  it.each([
    [['api']],
    [['api', 'service-account']],
    [['api', '--debug', 'info']],
    [['api', 'inf']],
    [['completion', 'bash']],
    [['api', 'info', '--help']],
    [['request', '-h']],
    [['--help']],
    [['--cacert']],
    [['--debug=yes', 'api', 'info']],
    [['--cacert', 'ca.pem', '--bogus', 'api', 'info']],
    [['help', 'api']],
    [[]],
  ])('%j: not told for sure, so every command is defined', (args) => {
    expect(names(args)).toBeUndefined();
  });
});

describe('defining only the invoked command', () => {
  it.each(COMMAND_LINES.map((args) => [args]))(
    '%j: the same command, options, arguments, errors and output as with every command defined',
    async (args) => {
      const pruned = await parse(args, (program, run) => defineCommands(program, run, args));
      const whole = await parse(args, defineAllCommands);
      expect(pruned).toEqual(whole);
      // The corpus is not vacuous: each line either ran a command or failed with a message.
      expect(pruned.ran !== undefined || pruned.error !== undefined).toBe(true);
    },
  );

  it('defines one command per level for a command it can tell, every command otherwise', () => {
    const count = (program: Command): number =>
      program.commands.reduce((sum, command) => sum + 1 + count(command), 0);
    const all = new Command();
    defineAllCommands(all, () => async () => undefined);
    const some = new Command();
    defineCommands(some, () => async () => undefined, ['api', 'info', '--offline']);
    expect(some.commands.map((c) => c.name())).toEqual(['api']);
    expect(some.commands[0]?.commands.map((c) => c.name())).toEqual(['info']);
    const leaves = (nodes: typeof COMMAND_TREE): number =>
      nodes.reduce((sum, node) => sum + 1 + leaves(node.children ?? []), 0);
    expect(count(all)).toBe(leaves(COMMAND_TREE));
  });
});
