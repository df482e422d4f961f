/** A POSIX shell word (bash, zsh) in single quotes: nothing inside is expanded. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A fish word in single quotes: there, only \\ and \' are escapes. */
export function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** How a value completion is spelled in the generated scripts' tables: endpoint, file, command, choices a b. */
export function valueKindWord(value: { kind: string; choices?: readonly string[] } | undefined): string {
  if (value === undefined) return '';
  return value.kind === 'choices' ? ['choices', ...(value.choices ?? [])].join(' ') : value.kind;
}
