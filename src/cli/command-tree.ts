import type { Command } from 'commander';
import { defineApiCookies } from './definitions/api-cookies';
import { defineApiHeader } from './definitions/api-header';
import { defineApiInfo } from './definitions/api-info';
import { defineApiLogin } from './definitions/api-login';
import { defineApiLogout } from './definitions/api-logout';
import {
  defineServiceAccountCreate,
  defineServiceAccountGroup,
  defineServiceAccountList,
  defineServiceAccountRevoke,
  defineServiceAccountRotateKey,
} from './definitions/api-service-account';
import { defineUsersGroup, defineUsersList, defineUsersSetRole } from './definitions/api-users';
import { defineCompletion } from './definitions/completion';
import { defineExec } from './definitions/exec';
import { defineProxy } from './definitions/proxy';
import { defineRequest } from './definitions/request';
import type { RunAction } from './definitions/run-action';
import { defineServe } from './definitions/serve';

export type { RunAction } from './definitions/run-action';

/** One command of the tree: how to define it on its parent, and the commands under it. */
export interface CommandNode {
  name: string;
  define: (parent: Command, run: RunAction) => Command;
  children?: readonly CommandNode[];
  /** The command reads the whole tree (completion scripts list every command and option). */
  needsWholeTree?: true;
}

const defineApiGroup = (program: Command): Command =>
  program.command('api').description('log in to an endpoint, inspect and forget credentials');

/** Every command, in the order of the help. */
export const COMMAND_TREE: readonly CommandNode[] = [
  {
    name: 'api',
    define: defineApiGroup,
    children: [
      { name: 'login', define: defineApiLogin },
      { name: 'info', define: defineApiInfo },
      { name: 'logout', define: defineApiLogout },
      { name: 'header', define: defineApiHeader },
      { name: 'cookies', define: defineApiCookies },
      {
        name: 'service-account',
        define: defineServiceAccountGroup,
        children: [
          { name: 'create', define: defineServiceAccountCreate },
          { name: 'list', define: defineServiceAccountList },
          { name: 'revoke', define: defineServiceAccountRevoke },
          { name: 'rotate-key', define: defineServiceAccountRotateKey },
        ],
      },
      {
        name: 'users',
        define: defineUsersGroup,
        children: [
          { name: 'list', define: defineUsersList },
          { name: 'set-role', define: defineUsersSetRole },
        ],
      },
    ],
  },
  { name: 'request', define: defineRequest },
  { name: 'proxy', define: defineProxy },
  { name: 'serve', define: defineServe },
  { name: 'exec', define: defineExec },
  { name: 'completion', define: defineCompletion, needsWholeTree: true },
];

/** What invokedCommandPath reads of an option: commander's Option, or command-recorder.ts's record of one. */
export interface OptionFlags {
  short?: string | undefined;
  long?: string | undefined;
  required?: boolean | undefined;
  optional?: boolean | undefined;
}

/**
 * The commands a command line runs, root first (`api info -e x` → api, info), when that can be told for sure
 * from its first words: the program's own options (`globalOptions`: run-cli.ts defines them, e.g. --debug,
 * --cacert FILE) and then command names, each right after its parent, down to a command without children.
 * Anything else — help, an unknown word, an option where a command name should be, a group without its
 * command, a command that reads the whole tree — is undefined: then every command is defined, and commander
 * answers as it always does.
 */
export function invokedCommandPath(
  args: readonly string[],
  globalOptions: readonly OptionFlags[],
): CommandNode[] | undefined {
  let index = 0;
  while (index < args.length && args[index]?.startsWith('-') === true) {
    const word = args[index] ?? '';
    const [name = '', inlineValue] = word.startsWith('--') ? word.split(/=(.*)/s) : [word];
    const option = globalOptions.find((candidate) => candidate.long === name || candidate.short === name);
    if (option === undefined) return undefined;
    const takesValue = option.required || option.optional;
    if (inlineValue !== undefined && !takesValue) return undefined;
    index += takesValue && inlineValue === undefined ? 2 : 1;
  }
  const path: CommandNode[] = [];
  let level: readonly CommandNode[] | undefined = COMMAND_TREE;
  while (level !== undefined) {
    const name = args[index];
    const node: CommandNode | undefined = level.find((candidate) => candidate.name === name);
    if (node === undefined || node.needsWholeTree === true) return undefined;
    path.push(node);
    index += 1;
    level = node.children;
  }
  // Help anywhere shows what the whole tree would show.
  if (args.slice(index).some((word) => word === '--help' || word === '-h')) return undefined;
  return path;
}

/**
 * Defines the commands a command line needs on `program`: only those it runs when invokedCommandPath can
 * tell them (building all of them took a fifth of `api info --offline`'s start-up), else all of them.
 * Either way each command is defined by the same function, so what it accepts and prints is the same.
 */
export function defineCommands(program: Command, run: RunAction, args: readonly string[]): void {
  const path = invokedCommandPath(args, program.options);
  if (path === undefined) defineAllCommands(program, run);
  else path.reduce((parent, node) => node.define(parent, run), program);
}

/** Defines every command of COMMAND_TREE on `program`, in the order of the help. */
export function defineAllCommands(program: Command, run: RunAction): void {
  const define = (parent: Command, nodes: readonly CommandNode[]): void => {
    for (const node of nodes) {
      const command = node.define(parent, run);
      if (node.children !== undefined) define(command, node.children);
    }
  };
  define(program, COMMAND_TREE);
}
