import type { CliContext } from '../cli-context';
import { cookiesCommand } from './cookies-command';

export interface HeaderCommandOptions {
  endpoint?: string;
  force?: boolean;
}

/**
 * `cookie-bridge api header`: `api cookies --format header`. Prints the one header a tool should send
 * (`Cookie: …` or `Authorization: …`) on stdout and nothing else, for `cookie-bridge api header | curl -H @- …`
 * (curl 7.55+ reads headers from a file or stdin, so the secret never lands on curl's command line, where
 * other users can read it in `ps`; `curl -H "$(…)"` would put it there). Refuses a terminal unless --force.
 */
export async function headerCommand(
  ctx: Pick<CliContext, 'env' | 'store' | 'stdout' | 'stderr'>,
  options: HeaderCommandOptions,
): Promise<number> {
  return cookiesCommand(ctx, {
    ...options,
    format: 'header',
    terminalHint:
      'pipe it into the tool instead: cookie-bridge api header | curl -H @- …, or pass --force to show it',
  });
}
