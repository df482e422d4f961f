import type { Command, Option } from 'commander';

/** What the word after an option, or a command's operands, complete to. */
export type ValueCompletion =
  | { kind: 'endpoint' } // the stored endpoints (cookie-bridge completion --endpoints)
  | { kind: 'file' }
  | { kind: 'choices'; choices: readonly string[] }
  | { kind: 'command' } // a command of the system, then its arguments (exec)
  | { kind: 'any' }; // something only the user knows: nothing is offered

export interface OptionNode {
  /** Every spelling, short first: ['-e', '--endpoint']. */
  names: readonly string[];
  description: string;
  /** undefined: a flag, which takes no value. */
  value: ValueCompletion | undefined;
}

export interface CommandNode {
  name: string;
  /** The words that lead here from the program: [] for the program, ['api', 'login']. */
  path: readonly string[];
  description: string;
  /** Its own options, then the program's (commander accepts those after any subcommand). */
  options: readonly OptionNode[];
  subcommands: readonly CommandNode[];
  /** What its operands complete to; undefined when it takes none or nothing can be offered. */
  operands: ValueCompletion | undefined;
}

/**
 * The completion tree of a commander program: its visible commands, options and operands, walked from the
 * very program the CLI parses with, so completion cannot drift from it. Hidden options and commands stay
 * hidden. An option completes endpoints when it is --endpoint, files when its value is named <file>, its
 * choices when it has some.
 */
export function describeProgram(program: Command): CommandNode {
  const help = program.createHelp();
  const globals = help
    .visibleOptions(program)
    .filter((option) => option.long !== '--version' && option.long !== '--help')
    .map(describeOption);
  const walk = (command: Command, path: readonly string[]): CommandNode => {
    const own = help.visibleOptions(command).map(describeOption);
    const isProgram = path.length === 0;
    return {
      name: command.name(),
      path,
      description: firstLine(command.description()),
      options: isProgram ? own : [...own, ...globals.filter((g) => !own.some((o) => sameOption(o, g)))],
      subcommands: help
        .visibleCommands(command)
        .filter((sub) => sub.name() !== 'help')
        .map((sub) => walk(sub, [...path, sub.name()])),
      operands: describeOperands(command),
    };
  };
  return walk(program, []);
}

/** Every command of the tree, the program first. */
export function allCommands(node: CommandNode): CommandNode[] {
  return [node, ...node.subcommands.flatMap(allCommands)];
}

function describeOption(option: Option): OptionNode {
  const names = [option.short, option.long].filter((name): name is string => name !== undefined);
  const takesValue = option.required || option.optional;
  return {
    names,
    description: firstLine(option.description),
    value: takesValue ? valueOf(option) : undefined,
  };
}

function valueOf(option: Option): ValueCompletion {
  if (option.argChoices !== undefined) return { kind: 'choices', choices: option.argChoices };
  if (option.long === '--endpoint') return { kind: 'endpoint' };
  if (/<file>|\[file\]/.test(option.flags)) return { kind: 'file' };
  return { kind: 'any' };
}

function describeOperands(command: Command): ValueCompletion | undefined {
  const first = command.registeredArguments[0];
  if (first === undefined) return undefined;
  if (first.argChoices !== undefined) return { kind: 'choices', choices: first.argChoices };
  if (first.name() === 'command' && first.variadic) return { kind: 'command' };
  return undefined;
}

function sameOption(a: OptionNode, b: OptionNode): boolean {
  return a.names.some((name) => b.names.includes(name));
}

/** The first sentence of the first line, without its closing punctuation: what fits beside a candidate. */
function firstLine(text: string): string {
  const line = (text.split('\n')[0] ?? '').trim();
  return (line.split(/[.;] /)[0] ?? '').replace(/[.;:,]$/, '');
}
