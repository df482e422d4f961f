/**
 * The completion scripts are generated from the commander program: every command, visible option and
 * option value kind comes from it, so a command added to the CLI is completed without touching the scripts.
 * (test/e2e/shell-completion.test.ts runs them in real bash, zsh and fish.)
 */
import { Argument, Command, Option } from 'commander';
import { allCommands, describeProgram } from '../../src/cli/completion/command-tree';
import { completionScript, COMPLETION_SHELLS } from '../../src/cli/completion/completion-script';

function toyProgram(): Command {
  const program = new Command('tool').version('1.0.0', '-V, --version').option('--debug', 'show every step');
  const api = program.command('api').description('log in and out. More words here.\nA second line.');
  api
    .command('login')
    .description('Sign in with the browser; then store the session.')
    .requiredOption('-e, --endpoint <url>', 'the endpoint')
    .option('--token-file <file>', 'a token file')
    .option('--timeout <seconds>', 'how long')
    .addOption(new Option('--format <f>', 'output format').choices(['json', 'text']))
    .option('--json', 'JSON output');
  program.command('exec').argument('<command...>', 'the command').option('--secret', 'use a secret');
  program
    .command('completion')
    .addArgument(new Argument('[shell]').choices(['bash', 'zsh', 'fish']))
    .addOption(new Option('--endpoints', 'for the scripts').hideHelp());
  program.command('internal', { hidden: true });
  return program;
}

describe('describeProgram', () => {
  const tree = describeProgram(toyProgram());
  const find = (...path: string[]) =>
    allCommands(tree).find((node) => node.path.join(' ') === path.join(' '));

  it('walks the visible commands, without hidden ones or the implicit help command', () => {
    expect(allCommands(tree).map((node) => node.path.join(' '))).toEqual([
      '',
      'api',
      'api login',
      'exec',
      'completion',
    ]);
  });

  it("says what each option's value completes to: endpoints, files, choices, or nothing to offer", () => {
    const options = Object.fromEntries(
      find('api', 'login')!.options.map((o) => [o.names.join(','), o.value]),
    );
    expect(options).toEqual({
      '-e,--endpoint': { kind: 'endpoint' },
      '--token-file': { kind: 'file' },
      '--timeout': { kind: 'any' },
      '--format': { kind: 'choices', choices: ['json', 'text'] },
      '--json': undefined,
      '-h,--help': undefined,
      '--debug': undefined, // the program's own options work after any subcommand
    });
  });

  it('keeps hidden options hidden, and says what operands complete to', () => {
    const completion = find('completion')!;
    expect(completion.options.flatMap((o) => o.names)).not.toContain('--endpoints');
    expect(completion.operands).toEqual({ kind: 'choices', choices: ['bash', 'zsh', 'fish'] });
    expect(find('exec')!.operands).toEqual({ kind: 'command' });
    expect(find('api')!.operands).toBeUndefined();
  });

  it('describes each command by the first sentence of its description', () => {
    expect(find('api')!.description).toBe('log in and out');
    expect(find('api', 'login')!.description).toBe('Sign in with the browser');
  });
});

describe.each(COMPLETION_SHELLS)('the %s script', (shell) => {
  const script = completionScript(shell, toyProgram());

  it('names every command and option of the program, and no hidden one', () => {
    for (const word of ['api', 'login', 'exec', 'completion', 'endpoint', 'token-file', 'debug', 'secret']) {
      expect(script).toContain(word);
    }
    expect(script).not.toContain('internal');
    expect(script).not.toMatch(/'--endpoints'|-l 'endpoints'/);
    // stored endpoints come from the hidden command, at completion time
    expect(script).toContain('completion --endpoints');
  });

  it('follows the program: a command added to it is completed, with its options', () => {
    const program = toyProgram();
    program.command('newcomer').description('Just added').option('--fresh-flag', 'new');
    const grown = completionScript(shell, program);
    expect(script).not.toContain('newcomer');
    expect(grown).toContain('newcomer');
    expect(grown).toContain('fresh-flag');
  });
});
