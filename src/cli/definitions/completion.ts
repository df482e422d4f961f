import type { Command } from 'commander';
import type { RunAction } from './run-action';

// The command's module loads when it runs (a bundle of its own for the long commands: scripts/build-cli.mjs).
const load = (): typeof import('../commands/completion-command') =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('../commands/completion-command') as typeof import('../commands/completion-command');

/** Defines `completion` on `program`. */
export function defineCompletion(program: Command, run: RunAction): Command {
  return program
    .command('completion')
    .description(
      'Print the completion script for bash, zsh or fish: commands, options, and stored endpoints after -e',
    )
    .addArgument(program.createArgument('[shell]', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addOption(
      program
        .createOption('--endpoints', 'list the stored endpoints, one a line (for the scripts)')
        .hideHelp(),
    )
    .addHelpText(
      'after',
      `
Install:
  bash   echo 'source <(cookie-bridge completion bash)' >> ~/.bashrc
  zsh    echo 'source <(cookie-bridge completion zsh)' >> ~/.zshrc      # after compinit
  fish   cookie-bridge completion fish > ~/.config/fish/completions/cookie-bridge.fish`,
    )
    .action(run((ctx, ...args) => load().completionCommand(ctx, program, ...(args as [never, never]))));
}
