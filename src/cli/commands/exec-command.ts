import { UsageError } from '../../errors';
import type { CliContext } from '../cli-context';
import { hasControllingTerminal, runChildCommand } from '../run-child-command';
import { startLocalProxy, type LocalProxyOptions } from './start-local-proxy';

export type ExecCommandOptions = LocalProxyOptions;

/** What the command finds in its environment: set by exec, and removed when left over from an outer run. */
export const EXEC_ENV = {
  url: 'COOKIE_BRIDGE_URL',
  endpoint: 'COOKIE_BRIDGE_ENDPOINT',
  secret: 'COOKIE_BRIDGE_SECRET',
} as const;

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
  try {
    return await runChildCommand(command, args, {
      env: commandEnvironment(ctx.env, { url, endpoint: proxy.endpoint, secret }),
      logger: ctx.logger,
      hasTerminal: hasControllingTerminal(),
    });
  } finally {
    await proxy.close();
    ctx.logger.debug('exec: proxy stopped');
  }
}

/** The command's environment: cookie-bridge's own, plus where the proxy is. */
export function commandEnvironment(
  env: NodeJS.ProcessEnv,
  proxy: { url: string; endpoint: string; secret: string | undefined },
): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {
    ...env,
    [EXEC_ENV.url]: proxy.url,
    [EXEC_ENV.endpoint]: proxy.endpoint,
  };
  if (proxy.secret === undefined) delete result[EXEC_ENV.secret];
  else result[EXEC_ENV.secret] = proxy.secret;
  return result;
}
