import { UsageError } from '../../errors';
import type { CliContext } from '../cli-context';
import { commandEnvironment } from '../exec-environment';
import { hasControllingTerminal, runChildCommand } from '../run-child-command';
import { startLocalProxy, type LocalProxyOptions } from './start-local-proxy';
import { watchSessionExpiry } from '../session-expiry-notice';

export type ExecCommandOptions = LocalProxyOptions;

/**
 * `cookie-bridge exec -- COMMAND [ARGS…]`: starts the local forwarding proxy (as `proxy` does) on a free
 * loopback port, runs COMMAND with COOKIE_BRIDGE_URL and COOKIE_BRIDGE_ENDPOINT (and, with --secret,
 * COOKIE_BRIDGE_SECRET) in its environment, stops the proxy when it exits, and returns its exit code.
 * stdout and stdin belong to the command: exec itself prints nothing but errors (and --debug lines).
 */
export async function execCommand(
  ctx: CliContext,
  commandLine: string[],
  options: ExecCommandOptions,
): Promise<number> {
  const [command, ...args] = commandLine;
  if (command === undefined || command === '') {
    throw new UsageError('no command to run', { hint: 'put it after --: cookie-bridge exec -- env' });
  }
  const { proxy, url, secret } = await startLocalProxy(ctx, options);
  ctx.logger.debug(`exec: ${url} → ${proxy.endpoint}; running ${JSON.stringify(command)}`);
  // Like `proxy`: one warning on stderr when the session nears its known end while the command runs.
  const expiryWatch = watchSessionExpiry(ctx, proxy.endpoint);
  try {
    return await runChildCommand(command, args, {
      env: commandEnvironment(ctx.env, { url, endpoint: proxy.endpoint, secret }),
      logger: ctx.logger,
      hasTerminal: hasControllingTerminal(),
    });
  } finally {
    expiryWatch.stop();
    await proxy.close();
    ctx.logger.debug('exec: proxy stopped');
  }
}
