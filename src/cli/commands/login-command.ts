import { preloadCredentialStoreModules } from '../../store/file-credential-store';
import { login, type LoginResult } from '../../login/login-flow';
import { createProgress } from '../../login/progress';
import type { CliContext } from '../cli-context';
import { readLoginSecrets } from '../read-login-secret';

export interface LoginCommandOptions {
  endpoint: string;
  cookies?: boolean;
  port?: number;
  browser: boolean;
  timeout: number;
  token?: string;
  tokenStdin?: boolean;
  tokenFile?: string;
  passwordStdin?: boolean;
  json?: boolean;
  relay?: boolean;
  acceptStateless?: boolean;
}

export async function loginCommand(ctx: CliContext, options: LoginCommandOptions): Promise<number> {
  // The jar and lock modules load lazily; load them while the browser works, not after the bundle arrives.
  setImmediate(preloadCredentialStoreModules);
  try {
    return await runLogin(ctx, options);
  } finally {
    // The paste reader listened on stdin; a terminal or pipe left open must not keep the process alive.
    ctx.stdin.destroy();
  }
}

async function runLogin(ctx: CliContext, options: LoginCommandOptions): Promise<number> {
  // --token-stdin, --token-file, --password-stdin: secrets that stay out of argv (ps).
  const { endpoint, token } = await readLoginSecrets(options, { stdin: ctx.stdin, logger: ctx.logger });
  // --cacert: read (and checked) before anything is sent; stored with the login.
  const ca = await ctx.tls.cacert();
  const result = await login(
    {
      endpoint,
      forceCookies: options.cookies === true,
      openBrowser: options.browser,
      timeoutSeconds: options.timeout,
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(token === undefined ? {} : { token }),
      ...(options.relay === true ? { relay: true } : {}),
      ...(options.acceptStateless === true ? { acceptStateless: true } : {}),
      ...(ca === undefined ? {} : { ca }),
    },
    {
      store: ctx.store,
      logger: ctx.logger,
      openBrowser: ctx.openBrowser,
      stdin: ctx.stdin,
      progress: createProgress({ stream: ctx.stderr, clock: ctx.now }),
      randomState: ctx.randomState,
      now: ctx.now,
      timers: ctx.timers,
      http: ctx.http,
    },
  );
  if (options.json) {
    // identity null: the server named nobody ("identity unknown"); the bundle's own claim is never used.
    const json = { ok: true, ...result, identity: result.identity ?? null };
    ctx.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }
  ctx.stderr.write(`${describeLogin(result)}\n`);
  if (ctx.env.COOKIE_BRIDGE_TOKEN && result.method !== 'token') {
    ctx.logger.warn('COOKIE_BRIDGE_TOKEN is set: it overrides the stored credential until you unset it');
  }
  return 0;
}

export function describeLogin(result: LoginResult): string {
  // The identity is the server's (its /api/health `user`); when it names nobody, say so.
  const who = result.identity === undefined ? ' (identity unknown)' : ` as ${result.identity}`;
  if (result.reused === true)
    return `Logged in to ${result.endpoint}${who} (reused the session another cookie-bridge api login just saved)`;
  switch (result.method) {
    case 'none':
      return `Logged in to ${result.endpoint}${who} (no auth proxy detected: no credentials needed)`;
    case 'token':
      return `Logged in to ${result.endpoint}${who} with a service-account token`;
    case 'basic':
      return `Logged in to ${result.endpoint}${who} with basic auth`;
    case 'cookies':
      return `Logged in to ${result.endpoint}${who}`;
  }
}
