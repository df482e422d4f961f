/**
 * The one place the CLI changes V8's flags (node:v8 setFlagsFromString): CliContext.setV8Flags. A code cache
 * written after a flag changed would be refused by every later start (V8 keys its caches by the flags), so
 * the entry's hook (CliHost.beforeV8FlagsChange, main.ts) runs first and writes a pending cache.
 */
export type SetV8Flags = (flags: string) => void;

export function createV8FlagSetter(beforeChange: (() => void) | undefined): SetV8Flags {
  return (flags) => {
    beforeChange?.();
    // node:v8 loads here, on the first change, not at every start.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('node:v8') as typeof import('node:v8')).setFlagsFromString(flags);
  };
}
