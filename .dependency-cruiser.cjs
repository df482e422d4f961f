// @ts-check
/**
 * The layering of src/, checked by `npm run lint` (so by `npm test`). README.md, section "Structure", explains it.
 *
 * Floors, lowest first; a module imports only from its own folder and from lower floors:
 *   base          src/errors.ts, src/context.ts (import nothing of ours)
 *   protocol/     pure rules, no I/O
 *   store/, http/ the credential store on disk; the outbound HTTP client and what every hop shares
 *   login/, sdk/, local-proxy/, server/   the four roles, which do not import each other
 *   cli/          the only top floor; src/index.ts (the public barrel) may import anything but cli/
 * No import cycles at all. Type-only imports count: a type is a dependency too.
 */

const BASE = 'src/(errors|context)[.]ts$';

/** A rule that lets `folder` import only from its own folder, the base and the folders in `below`. */
function floor(folder, below) {
  const allowed = [folder, ...below].map((name) => `src/${name}/`).join('|');
  return {
    name: `${folder}-imports-only-lower-floors`,
    comment: `src/${folder}/ may import only from itself, the base${below.length > 0 ? ` and ${below.join('/, ')}/` : ''} (README.md, Structure)`,
    severity: 'error',
    from: { path: `^src/${folder}/` },
    to: { path: '^src/', pathNot: `^(${allowed}|${BASE})` },
  };
}

/** Node built-ins that do I/O or reach the machine; protocol/ may use none of them. */
const IO_BUILTINS = [
  'fs',
  'fs/promises',
  'net',
  'http',
  'http2',
  'https',
  'tls',
  'dns',
  'dns/promises',
  'dgram',
  'child_process',
  'cluster',
  'worker_threads',
  'os',
  'readline',
  'process',
  'inspector',
];

/** npm packages that do I/O (network, disk, processes, browsers); protocol/ may use none of them. */
const IO_PACKAGES = [
  'undici',
  'ioredis',
  'express',
  'http-proxy-middleware',
  'ws',
  'open',
  'proper-lockfile',
  'write-file-atomic',
  'env-paths',
  'playwright-core',
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment:
        'Import cycles are not allowed anywhere in src/: move what both sides need into a module of its own.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'base-imports-nothing-of-ours',
      comment:
        'src/errors.ts and src/context.ts are the base floor: anything may import them, they import nothing of ours.',
      severity: 'error',
      from: { path: `^${BASE}` },
      to: { path: '^src/' },
    },
    {
      name: 'only-cli-imports-cli',
      comment: 'cli/ is the only top floor: nothing outside it (not even the public barrel) imports from it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    floor('protocol', []),
    floor('store', ['protocol']),
    floor('http', ['protocol']),
    floor('login', ['protocol', 'store', 'http']),
    floor('sdk', ['protocol', 'store', 'http']),
    floor('local-proxy', ['protocol', 'store', 'http']),
    floor('server', ['protocol', 'store', 'http']),
    {
      name: 'only-known-folders',
      comment:
        'Every module of src/ lives in a floor of the layer table (or is the base or the barrel): add new folders there.',
      severity: 'error',
      from: { path: '^src/' },
      to: {
        path: '^src/',
        pathNot: `^(src/(protocol|store|http|login|sdk|local-proxy|server|cli)/|${BASE}|src/index[.]ts$)`,
      },
    },
    {
      name: 'protocol-does-no-io',
      comment:
        'protocol/ holds pure rules: no node: module that does I/O (crypto, zlib, buffer and the like are fine).',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { dependencyTypes: ['core'], path: `^(node:)?(${IO_BUILTINS.join('|')})$` },
    },
    {
      name: 'protocol-uses-no-io-packages',
      comment:
        'protocol/ holds pure rules: no HTTP client or server, file lock, browser or config-folder package.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: `(^|/)node_modules/(${IO_PACKAGES.join('|')})/` },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['require', 'node', 'default', 'types'],
    },
  },
};
