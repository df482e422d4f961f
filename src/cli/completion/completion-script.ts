import type { Command } from 'commander';
import { bashCompletionScript } from './bash-completion';
import { describeProgram } from './command-tree';
import { fishCompletionScript } from './fish-completion';
import { zshCompletionScript } from './zsh-completion';

export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/** The completion script for `shell`, generated from the commander program the CLI parses with. */
export function completionScript(shell: CompletionShell, program: Command): string {
  const tree = describeProgram(program);
  const name = program.name();
  switch (shell) {
    case 'bash':
      return bashCompletionScript(tree, name);
    case 'zsh':
      return zshCompletionScript(tree, name);
    case 'fish':
      return fishCompletionScript(tree, name);
  }
}
