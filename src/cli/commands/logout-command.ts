import { resolveEndpoint } from '../../sdk/resolve-endpoint';
import type { CliContext } from '../cli-context';

export interface LogoutCommandOptions {
  endpoint?: string;
  json?: boolean;
}

export async function logoutCommand(ctx: CliContext, options: LogoutCommandOptions): Promise<number> {
  const { endpoint } = await resolveEndpoint(options.endpoint, ctx.env, ctx.store);
  const removed = await ctx.store.removeEndpoint(endpoint);
  if (options.json) ctx.stdout.write(`${JSON.stringify({ ok: true, endpoint, removed })}\n`);
  ctx.stderr.write(
    removed ? `Logged out of ${endpoint}\n` : `Not logged in to ${endpoint}: nothing to forget\n`,
  );
  return 0;
}
