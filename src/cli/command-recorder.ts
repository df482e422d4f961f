import type { Command } from 'commander';

/*
 * What a command's definition (src/cli/definitions/) declares, recorded without commander: the same
 * definition functions run against a CommandRecorder instead of a commander Command, so the options and
 * arguments exist once. plain-command-line.ts parses the common command lines from the record; anything the
 * record cannot vouch for goes to commander, which answers as it always has.
 */

/** Thrown while recording when a definition uses what the recorder does not model: commander parses then. */
export class NotRecordableError extends Error {
  constructor(what: string) {
    super(`not recordable: ${what}`);
    this.name = 'NotRecordableError';
  }
}

type ValueParser = (value: string, previous: unknown) => unknown;

/** commander's name of an option's value (Option#attributeName, its camelcase): --data-file → dataFile. */
function attributeName(name: string): string {
  if (!name.includes('-')) return name;
  return name.split('-').reduce((camel, word) => camel + (word[0] ?? '').toUpperCase() + word.slice(1));
}

/**
 * The flags of `-e, --endpoint <url>` as commander's Option reads them (a short flag, a long one, then the
 * value's name), found with indexOf: this runs for every option of the command at every start, where
 * splitting on a pattern cost ~1 KB of young-generation garbage per option.
 */
function flagWords(flags: string): { short: string | undefined; long: string | undefined; rest: string } {
  let short: string | undefined;
  let long: string | undefined;
  let at = 0;
  for (;;) {
    while (flags[at] === ' ' || flags[at] === ',' || flags[at] === '|') at += 1;
    if (flags[at] !== '-') break;
    let end = at;
    while (end < flags.length && flags[end] !== ' ' && flags[end] !== ',' && flags[end] !== '|') end += 1;
    const word = flags.slice(at, end);
    if (word.startsWith('--')) long ??= word;
    else if (word.length === 2) short ??= word;
    else break;
    at = end;
  }
  return { short, long, rest: flags.slice(at) };
}

/** One option as commander would read its flags (`-e, --endpoint <url>`), and what the definition added. */
export class RecordedOption {
  readonly short: string | undefined;
  readonly long: string | undefined;
  /** Takes a value (`<value>`); `[value]`, `<value...>` and `--no-x` make the command not plain. */
  readonly required: boolean;
  readonly attribute: string;
  parser: ValueParser | undefined;
  defaultValue: unknown;
  allowed: readonly string[] | undefined;
  hasConflicts = false;
  mandatory = false;

  constructor(flags: string) {
    const { short, long, rest } = flagWords(flags);
    this.short = short;
    this.long = long;
    this.required = rest.includes('<');
    const name = long?.slice(2) ?? short?.slice(1);
    if (name === undefined || rest.includes('[') || rest.includes('...') || name.startsWith('no-')) {
      throw new NotRecordableError(`option ${flags}`);
    }
    this.attribute = attributeName(name);
  }

  /** Whether `flag` (`-e`, `--endpoint`) names this option, as commander's Option#is. */
  is(flag: string): boolean {
    return this.short === flag || this.long === flag;
  }

  // The builder methods the definitions call on `parent.createOption(…)` (commander's Option).
  argParser(parser: ValueParser): this {
    this.parser = parser;
    return this;
  }
  default(value: unknown): this {
    this.defaultValue = value;
    return this;
  }
  choices(values: readonly string[]): this {
    this.allowed = values;
    return this;
  }
  conflicts(): this {
    this.hasConflicts = true;
    return this;
  }
  hideHelp(): this {
    return this;
  }
}

/** One positional argument (`<path-or-url>`, `[shell]`; a bare name is required, as for commander). */
export class RecordedArgument {
  readonly required: boolean;
  allowed: readonly string[] | undefined;

  constructor(name: string) {
    if (name.includes('...')) throw new NotRecordableError(`argument ${name}`);
    this.required = !name.startsWith('[');
  }

  choices(values: readonly string[]): this {
    this.allowed = values;
    return this;
  }
}

/** commander's `.option(flags, description, parser?, default?)`, where a non-function third is the default. */
function recordOption(flags: string, parserOrDefault: unknown, defaultValue: unknown): RecordedOption {
  const option = new RecordedOption(flags);
  if (typeof parserOrDefault === 'function') {
    option.parser = parserOrDefault as ValueParser;
    option.defaultValue = defaultValue;
  } else {
    option.defaultValue = parserOrDefault;
  }
  return option;
}

/** Stands in for commander's Command while a definition runs; keeps what parsing needs, drops the help. */
export class CommandRecorder {
  readonly options: RecordedOption[] = [];
  readonly positionals: RecordedArgument[] = [];
  handler: ((...args: unknown[]) => unknown) | undefined;

  /** This recorder as the Command a definition expects: only the methods below may be called on it. */
  asCommand(): Command {
    return this as unknown as Command;
  }

  command(): CommandRecorder {
    return new CommandRecorder();
  }
  createOption(flags: string): RecordedOption {
    return new RecordedOption(flags);
  }
  createArgument(name: string): RecordedArgument {
    return new RecordedArgument(name);
  }
  option(flags: string, _description?: string, parserOrDefault?: unknown, defaultValue?: unknown): this {
    return this.addOption(recordOption(flags, parserOrDefault, defaultValue));
  }
  requiredOption(
    flags: string,
    _description?: string,
    parserOrDefault?: unknown,
    defaultValue?: unknown,
  ): this {
    const option = recordOption(flags, parserOrDefault, defaultValue);
    option.mandatory = true;
    return this.addOption(option);
  }
  addOption(option: RecordedOption): this {
    this.options.push(option);
    return this;
  }
  argument(name: string): this {
    return this.addArgument(new RecordedArgument(name));
  }
  addArgument(argument: RecordedArgument): this {
    this.positionals.push(argument);
    return this;
  }
  description(): this {
    return this;
  }
  addHelpText(): this {
    return this;
  }
  action(handler: (...args: unknown[]) => unknown): this {
    this.handler = handler;
    return this;
  }
}
