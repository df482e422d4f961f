import type { Command } from 'commander';
import { UsageError } from '../../errors';
import type { CliContext } from '../cli-context';
import { completionScript, COMPLETION_SHELLS, type CompletionShell } from '../completion/completion-script';

export interface CompletionCommandOptions {
  /** Hidden: the stored endpoints, one a line, for the scripts to offer after -e/--endpoint. */
  endpoints?: boolean;
}

/**
 * `cookie-bridge completion bash|zsh|fish` prints the completion script generated from `program`;
 * `cookie-bridge completion --endpoints` lists the stored endpoints (from disk only, no network), and prints
 * nothing rather than an error when the store cannot be read: a completion must never spoil the terminal.
 */
export async function completionCommand(
  ctx: CliContext,
  program: Command,
  shell: string | undefined,
  options: CompletionCommandOptions,
): Promise<number> {
  if (options.endpoints === true) {
    const profiles = await listEndpointsQuietly(ctx);
    ctx.stdout.write(profiles.map((endpoint) => `${endpoint}\n`).join(''));
    return 0;
  }
  if (shell === undefined) {
    throw new UsageError('which shell?', {
      hint: `name it: cookie-bridge completion ${COMPLETION_SHELLS.join('|')}`,
    });
  }
  ctx.stdout.write(completionScript(shell as CompletionShell, program));
  return 0;
}

async function listEndpointsQuietly(ctx: CliContext): Promise<string[]> {
  try {
    const listed = ctx.store.listProfilesWithProblems
      ? (await ctx.store.listProfilesWithProblems()).profiles
      : await ctx.store.listProfiles();
    return listed.map((profile) => profile.endpoint).sort();
  } catch (error) {
    ctx.logger.debug(`completion: cannot list the endpoints: ${String(error)}`);
    return [];
  }
}
