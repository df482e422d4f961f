import { parseCookieExportFormat, looksLikeCookieExport } from '../../protocol/cookie-export';
import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import { exportCredential } from '../../store/credential-export';
import { writeNamedFileSecurely } from '../../store/secure-file';
import { UsageError } from '../../errors';
import type { CliContext } from '../cli-context';

export interface CookiesCommandOptions {
  endpoint?: string;
  /** netscape (default), json or header. */
  format?: string;
  /** -o FILE: written 0600, atomically; a symbolic link is refused. */
  output?: string;
  /** Print to a terminal; replace an -o FILE that is not a previous export. */
  force?: boolean;
  /** What to say when stdout is a terminal (`api header` has its own advice). */
  terminalHint?: string;
}

const COOKIES_TERMINAL_HINT =
  'write them to a file instead: cookie-bridge api cookies -o cookies.txt (then curl -b cookies.txt …), or pass --force to show them';

/**
 * `cookie-bridge api cookies`: the stored credential as a Netscape cookies.txt, JSON or the header line
 * (store/credential-export.ts), on stdout or into `-o FILE`. Refuses a terminal unless --force. `api header`
 * is this command with `--format header`.
 */
export async function cookiesCommand(
  ctx: Pick<CliContext, 'env' | 'store' | 'stdout' | 'stderr'>,
  options: CookiesCommandOptions,
): Promise<number> {
  const format = parseCookieExportFormat(options.format ?? 'netscape');
  const { endpoint } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const output = options.output;
  if (output === '') throw new UsageError('-o needs a file name');
  // A missing login (exit 3) or an expired session (exit 4) is said before the terminal refusal.
  const { text, cookies, note } = await exportCredential(endpoint, format, ctx.store, ctx.env);
  if (output === undefined && ctx.stdout.isTTY === true && options.force !== true) {
    const what = format === 'header' ? 'a credential' : 'cookies';
    throw new UsageError(`refusing to print ${what} to the terminal`, {
      hint: options.terminalHint ?? COOKIES_TERMINAL_HINT,
    });
  }
  if (note !== undefined) ctx.stderr.write(`${note}\n`);
  if (output === undefined) {
    if (text !== '') ctx.stdout.write(text);
    return 0;
  }
  if (text === '') return 0;
  await writeNamedFileSecurely(output, text, {
    ...(options.force === true ? {} : { mayReplace: looksLikeCookieExport }),
    keepHint: 'name another file, or pass --force to replace it',
  });
  const what = format === 'header' ? 'the credential header' : `${cookies} cookie${cookies === 1 ? '' : 's'}`;
  ctx.stderr.write(`Wrote ${what} of ${endpoint} to ${output} (mode 600)\n`);
  return 0;
}
