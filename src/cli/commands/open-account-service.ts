import { createAccountService } from '../../server/accounts/account-service';
import type { AccountService, AccountServiceOptions } from '../../server/accounts/account-types';
import { createFileAccountStateStore } from '../../server/accounts/file-account-state-store';
import {
  createRedisAccountStateStore,
  DEFAULT_ACCOUNT_STATE_PREFIX,
} from '../../server/accounts/redis-account-state-store';
import type { CliContext } from '../cli-context';

/** The Redis relay store's connection, which the account state then shares (its own key prefix). */
export interface SharedAccountRedis {
  url: string;
  password?: string;
  ca?: string;
}

export interface OpenedAccountService {
  accounts: AccountService;
  /** For serve's start-up line: the state dir, or the Redis URL (no password) and key prefix. */
  where: string;
  /** Closes the Redis connection, if any. */
  close(): Promise<void>;
}

/**
 * The AccountService `serve --service-accounts` runs with: createAccountService over the state dir (folder
 * 0700, files 0600; a corrupt or readable-by-others file is an AccountStateError naming it, never a new key),
 * or, when serve runs with a Redis relay store (`redis`), over that Redis under `cookie-bridge:accounts:`, so
 * every replica signs and checks with the same keys and registry.
 */
export function openAccountService(
  ctx: Pick<CliContext, 'now' | 'logger' | 'timers'>,
  settings: { service: AccountServiceOptions; stateDir: string },
  redis?: SharedAccountRedis,
): OpenedAccountService {
  if (redis === undefined) {
    return {
      accounts: createAccountService({
        ...settings.service,
        store: createFileAccountStateStore({ dir: settings.stateDir }),
        now: ctx.now,
        logger: ctx.logger,
      }),
      where: settings.stateDir,
      close: () => Promise.resolve(),
    };
  }
  const store = createRedisAccountStateStore({
    url: redis.url,
    ...(redis.password === undefined ? {} : { password: redis.password }),
    ...(redis.ca === undefined ? {} : { ca: redis.ca }),
    logger: ctx.logger,
    timers: ctx.timers,
  });
  return {
    accounts: createAccountService({ ...settings.service, store, now: ctx.now, logger: ctx.logger }),
    where: `${store.displayUrl} (prefix ${DEFAULT_ACCOUNT_STATE_PREFIX}, shared with the relay store)`,
    close: () => store.close().catch(() => undefined),
  };
}
