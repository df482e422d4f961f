import { UsageError } from '../../errors';
import type { AccountService, AccountServiceOptions } from '../../server/accounts/account-types';
import type { CliContext } from '../cli-context';

/**
 * The AccountService `serve --service-accounts` runs with: the core's createAccountService over the state dir.
 * The core (issue 13 part 1) is built on its own branch; until it is merged here, serve refuses the flag.
 */
export function openAccountService(
  _ctx: Pick<CliContext, 'now' | 'logger'>,
  settings: { service: AccountServiceOptions; stateDir: string },
): AccountService {
  throw new UsageError(
    `--service-accounts is not available in this build (issuer ${settings.service.issuer})`,
    {
      hint: 'the account service (issue 13 core) is not merged yet',
    },
  );
}
