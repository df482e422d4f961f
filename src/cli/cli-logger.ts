import type { Logger, TextOutput } from '../context';

export interface CliLoggerOptions {
  stderr: TextOutput;
  debug: boolean;
  /** Quiet: only warnings (e.g. --json, where stdout is for scripts). Info still goes to stderr. */
  quiet?: boolean;
}

/** The CLI's logger: everything for a person goes to stderr; stdout is kept for data. */
export function createCliLogger(options: CliLoggerOptions): Logger {
  const write = (text: string): void => {
    options.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  return {
    debugEnabled: options.debug,
    debug: (message) => {
      if (options.debug)
        write(
          message
            .split('\n')
            .map((line) => `debug: ${line}`)
            .join('\n'),
        );
    },
    info: (message) => {
      if (!options.quiet) write(message);
    },
    warn: (message) => write(`warning: ${message}`),
  };
}
