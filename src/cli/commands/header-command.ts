import { resolveCredential } from '../../store/resolve-credential';
import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import { SessionExpiredError, UsageError } from '../../errors';
import type { CliContext } from '../cli-context';

export interface HeaderCommandOptions {
  endpoint?: string;
  force?: boolean;
}

const HEADER_NAMES: Record<string, string> = { cookie: 'Cookie', authorization: 'Authorization' };

/**
 * `cookie-bridge api header`: prints the one header a tool should send (`Cookie: …` or
 * `Authorization: …`) on stdout and nothing else, for `cookie-bridge api header | curl -H @- …`
 * (curl 7.55+ reads headers from a file or stdin, so the secret never lands on curl's command line, where
 * other users can read it in `ps`; `curl -H "$(…)"` would put it there). Refuses a terminal unless --force.
 */
export async function headerCommand(
  ctx: Pick<CliContext, 'env' | 'store' | 'stdout' | 'stderr'>,
  options: HeaderCommandOptions,
): Promise<number> {
  const { endpoint } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const credential = await resolveCredential(endpoint, ctx.store, ctx.env);
  if (ctx.stdout.isTTY === true && options.force !== true) {
    throw new UsageError('refusing to print a credential to the terminal', {
      hint: 'pipe it into the tool instead: cookie-bridge api header | curl -H @- …, or pass --force to show it',
    });
  }
  if (credential.source === 'none') {
    ctx.stderr.write(`${endpoint} needs no credential (no auth proxy was detected at login)\n`);
    return 0;
  }
  const headers = Object.entries(await credential.headersFor(new URL(endpoint)));
  const first = headers[0];
  if (first === undefined) {
    throw new SessionExpiredError(endpoint, 'every stored cookie has expired');
  }
  const [name, value] = first;
  ctx.stdout.write(`${HEADER_NAMES[name] ?? name}: ${value}\n`);
  return 0;
}
