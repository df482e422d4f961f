import { createAccountService } from '../../server/accounts/account-service';
import type { AccountService, AccountServiceOptions } from '../../server/accounts/account-types';
import { createFileAccountStateStore } from '../../server/accounts/file-account-state-store';
import type { CliContext } from '../cli-context';

/**
 * The AccountService `serve --service-accounts` runs with: createAccountService over the state dir (folder
 * 0700, files 0600; a corrupt or readable-by-others file is an AccountStateError naming it, never a new key).
 * The Redis store comes with the Redis relay store (issue 12).
 */
export function openAccountService(
  ctx: Pick<CliContext, 'now' | 'logger'>,
  settings: { service: AccountServiceOptions; stateDir: string },
): AccountService {
  return createAccountService({
    ...settings.service,
    store: createFileAccountStateStore({ dir: settings.stateDir }),
    now: ctx.now,
    logger: ctx.logger,
  });
}
