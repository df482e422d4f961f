import { createAccountService } from '../../server/accounts/account-service';
import type { AccountService, AccountServiceOptions } from '../../server/accounts/account-types';
import type { AccountStateStore } from '../../server/accounts/account-state-store';
import { createFileAccountStateStore } from '../../server/accounts/file-account-state-store';
import type {
  RedisAccountStateStore,
  RedisAccountStateStoreOptions,
} from '../../server/accounts/redis-account-state-store';
import type { CliContext } from '../cli-context';
import { accountsPrefixFor, type RelayStoreSettings } from '../relay-store-settings';

/** The account service serve runs, where its state lives (for the start-up line) and how to close that. */
export interface OpenedAccountService {
  service: AccountService;
  /** `/var/lib/…/serve` or `redis://host:6379/0 (prefix cookie-bridge:accounts:)`. */
  location: string;
  close(): Promise<void>;
}

/**
 * The AccountService `serve --service-accounts` runs with. With a Redis relay store, its state is in that Redis
 * (same URL, password and CA; the prefix from the relay store's: accountsPrefixFor), so every replica signs and
 * checks alike; serve starts while Redis is down and the account checks answer 503 until it is back. Otherwise
 * the state dir (folder 0700, files 0600; a corrupt or readable-by-others file is an AccountStateError naming
 * it, never a new key).
 */
export function openAccountService(
  ctx: Pick<CliContext, 'now' | 'logger'>,
  settings: { service: AccountServiceOptions; stateDir: string },
  relayStore: RelayStoreSettings,
  createRedisStore: (options: RedisAccountStateStoreOptions) => RedisAccountStateStore,
): OpenedAccountService {
  const open = (store: AccountStateStore): AccountService =>
    createAccountService({ ...settings.service, store, now: ctx.now, logger: ctx.logger });
  if (relayStore.kind === 'memory') {
    return {
      service: open(createFileAccountStateStore({ dir: settings.stateDir })),
      location: settings.stateDir,
      close: () => Promise.resolve(),
    };
  }
  const prefix = accountsPrefixFor(relayStore.prefix);
  const store = createRedisStore({
    url: relayStore.url,
    prefix,
    ...(relayStore.password === undefined ? {} : { password: relayStore.password }),
    ...(relayStore.ca === undefined ? {} : { ca: relayStore.ca }),
    logger: ctx.logger,
  });
  return {
    service: open(store),
    location: `${store.displayUrl} (prefix ${prefix})`,
    close: () => store.close(),
  };
}
