import { resolveCredential } from '../../client/resolve-credential';
import { resolveEndpoint } from '../../client/resolve-endpoint';
import { SessionExpiredError, UsageError } from '../../errors';
import type { CliContext } from '../cli-context';

export interface HeaderCommandOptions {
  endpoint?: string;
  force?: boolean;
}

const HEADER_NAMES: Record<string, string> = { cookie: 'Cookie', authorization: 'Authorization' };

/**
 * `cookie-bridge api header`: prints the one header a tool should send (`Cookie: …` or
 * `Authorization: …`) on stdout and nothing else, for `curl -H "$(cookie-bridge api header)" …`.
 * Refuses to print a secret to a terminal unless --force.
 */
export async function headerCommand(
  ctx: Pick<CliContext, 'env' | 'store' | 'stdout' | 'stderr'>,
  options: HeaderCommandOptions,
): Promise<number> {
  const { endpoint } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const credential = await resolveCredential(endpoint, ctx.store, ctx.env);
  if (ctx.stdout.isTTY === true && options.force !== true) {
    throw new UsageError('refusing to print a credential to the terminal', {
      hint: 'capture it instead: curl -H "$(cookie-bridge api header)" …, or pass --force to show it',
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
