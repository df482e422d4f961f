import { invokedCommandPath, type RunAction } from './command-tree';
import { CommandRecorder, NotRecordableError } from './command-recorder';
import { defineGlobalOptions } from './definitions/global-options';

/**
 * The command lines most runs are (`api info -e URL --json`, `request /api/items -H 'A: b'`), parsed without
 * loading commander: its module and building its program were a tenth of a short command's start-up and
 * ~100 KB of the young generation before the request (bench/README.md, section 3). The command's definition (src/cli/definitions/) is recorded
 * (command-recorder.ts) and the line read from the record, with commander's own rules: options before,
 * between and after the arguments, `--name=value`, a value in the next word, the last value winning unless
 * the option collects, defaults first, the program's options (--debug, --cacert) anywhere.
 *
 * Anything else is left to commander, which then answers exactly as before: help and version, `--`, an
 * unknown or grouped short option (`-ab`), a value that looks like an option, a bad choice, a value its parser
 * refuses, a missing or extra argument, a missing required option, options that conflict, a command whose
 * definition uses what the recorder does not model (`--no-x`, `[value]`, variadic). A unit test compares both
 * parsers over generated command lines for every command (test/unit/plain-command-line.test.ts).
 */
export function parsePlainCommandLine(
  args: readonly string[],
  run: RunAction,
): (() => Promise<void>) | undefined {
  const program = new CommandRecorder();
  defineGlobalOptions(program.asCommand());
  const path = invokedCommandPath(args, program.options);
  if (path === undefined) return undefined;
  const commands: CommandRecorder[] = [];
  try {
    path.reduce((parent, node) => {
      const command = node.define(parent.asCommand(), run) as unknown as CommandRecorder;
      commands.push(command);
      return command;
    }, program);
  } catch (error) {
    // A definition calling a builder method the recorder lacks fails with a TypeError: commander's turn.
    if (error instanceof NotRecordableError || error instanceof TypeError) return undefined;
    throw error;
  }
  const leaf = commands[commands.length - 1];
  const handler = leaf?.handler;
  if (
    leaf === undefined ||
    handler === undefined ||
    commands.some((c) => c !== leaf && c.options.length > 0)
  ) {
    return undefined;
  }
  const globals = program.options;
  // A command's own option spelled like help, the version or a program option: commander's call.
  const reserved = (flag: string | undefined): boolean =>
    flag !== undefined &&
    (['-h', '--help', '-V', '--version'].includes(flag) || globals.some((option) => option.is(flag)));
  if (leaf.options.some((option) => reserved(option.short) || reserved(option.long))) return undefined;

  const values: Record<string, unknown> = {};
  for (const option of leaf.options) {
    if (option.defaultValue !== undefined) values[option.attribute] = option.defaultValue;
  }
  const globalValues: Record<string, unknown> = {};
  const operands: string[] = [];
  let commandWords = path.length;
  for (let index = 0; index < args.length; index++) {
    const word = args[index] ?? '';
    if (word.length < 2 || !word.startsWith('-')) {
      if (commandWords > 0) commandWords -= 1;
      else operands.push(word);
      continue;
    }
    const equals = word.startsWith('--') ? word.indexOf('=') : -1;
    if (equals === -1 && !word.startsWith('--') && word.length > 2) return undefined;
    const flag = equals === -1 ? word : word.slice(0, equals);
    const local = leaf.options.find((option) => option.is(flag));
    const option = local ?? globals.find((candidate) => candidate.is(flag));
    if (option === undefined || option.hasConflicts) return undefined;
    const target = local === undefined ? globalValues : values;
    if (!option.required) {
      if (equals !== -1 || option.parser !== undefined) return undefined;
      target[option.attribute] = true;
      continue;
    }
    const value = equals === -1 ? args[++index] : word.slice(equals + 1);
    if (value === undefined || (value.length > 1 && value.startsWith('-'))) return undefined;
    if (option.allowed !== undefined && !option.allowed.includes(value)) return undefined;
    try {
      target[option.attribute] =
        option.parser === undefined ? value : option.parser(value, target[option.attribute]);
    } catch {
      return undefined;
    }
  }
  if (leaf.options.some((option) => option.mandatory && values[option.attribute] === undefined)) {
    return undefined;
  }
  if (operands.length > leaf.positionals.length) return undefined;
  const actionArgs: unknown[] = [];
  for (const [position, argument] of leaf.positionals.entries()) {
    const operand = operands[position];
    if (operand === undefined && argument.required) return undefined;
    if (operand !== undefined && argument.allowed !== undefined && !argument.allowed.includes(operand)) {
      return undefined;
    }
    actionArgs.push(operand);
  }
  // As commander calls an action: its arguments, its options, then the command (run-cli.ts reads the
  // options with the program's from optsWithGlobals, where the program's win).
  const flags = { ...values, ...globalValues };
  return async () => {
    await handler(...actionArgs, values, { optsWithGlobals: () => flags });
  };
}
