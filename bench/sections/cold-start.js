'use strict';
/**
 * Section 3: cold start (hyperfine -N): `node -e ''` and the floors beside it (node loading only node:http,
 * only undici, one undici GET: what a command that needs them cannot go below), then `--version`, `api info --offline` and
 * `api info` with its server check against the local upstream; then where one start of `api info` and of
 * `api info --offline` spends its time and page faults, phase by phase (bench/start-phases.js).
 */
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { CLI, ROOT, childEnv } = require('../settings');
const { run } = require('../processes');
const { randomCookie, startUpstreamWithLogin } = require('../stack');
const { median } = require('../median');

/** The readable start of the endpoint's folder in the store (http_127.0.0.1_8080): what the floors look for. */
const endpointFolderPrefix = (endpoint) => `http_${new URL(endpoint).host.replace(':', '_')}`;

/** [key, label, command line] in the order hyperfine runs them. */
function commands(endpoint, extraCaCerts) {
  const node = process.execPath;
  const floorInfo = path.join(__dirname, '..', 'floor-info.js');
  const floorOffline = path.join(__dirname, '..', 'floor-offline.js');
  const folderPrefix = endpointFolderPrefix(endpoint);
  const core = path.join(path.dirname(CLI), 'cli-core.js');
  // A variable for one command only: through env(1) (hyperfine -N runs argv as given).
  const withEnv = (name, value, argv) => ['/usr/bin/env', `${name}=${value}`, ...argv];
  /** [key, label, argv]; hyperfine gets the argv joined (with the quoting the -e scripts need). */
  return [
    ['node', "node -e ''", [node, '-e', '']],
    ['nodeHttp', 'floor: node -e "require(\'node:http\')"', [node, '-e', "require('node:http')"]],
    ['nodeUndici', 'floor: node -e "require(\'undici\')"', [node, '-e', "require('undici')"]],
    [
      'floorInfo',
      'floor: one undici GET of /api/health (bench/floor-info.js)',
      [node, floorInfo, `${endpoint}/api/health`],
    ],
    [
      'floorInfoNodeHttp',
      'floor: one node:http GET of /api/health (bench/floor-info.js node-http)',
      [node, floorInfo, `${endpoint}/api/health`, 'node-http'],
    ],
    [
      'floorInfoStored',
      'floor: read the stored login, then one node:http GET with its cookie (bench/floor-info.js node-http <folder>)',
      [node, floorInfo, `${endpoint}/api/health`, 'node-http', folderPrefix],
    ],
    [
      'floorOffline',
      'floor: read and print the stored login (bench/floor-offline.js)',
      [node, floorOffline, folderPrefix],
    ],
    [
      'coreLoad',
      'the core bundle loaded, nothing run, no code cache (node dist/cli/cli-core.js)',
      [node, core],
    ],
    ['version', '--version', [node, CLI, '--version']],
    ['offline', 'api info --offline', [node, CLI, 'api', 'info', '--offline', '-e', endpoint]],
    [
      'offlineNoCodeCache',
      'api info --offline, no code cache (env NODE_DISABLE_COMPILE_CACHE=1)',
      withEnv('NODE_DISABLE_COMPILE_CACHE', '1', [node, CLI, 'api', 'info', '--offline', '-e', endpoint]),
    ],
    ['online', 'api info (server check, local upstream)', [node, CLI, 'api', 'info', '-e', endpoint]],
    ...(extraCaCerts === undefined
      ? []
      : [
          [
            'nodeExtraCa',
            "node -e '' with this machine's NODE_EXTRA_CA_CERTS (env)",
            withEnv('NODE_EXTRA_CA_CERTS', extraCaCerts, [node, '-e', '']),
          ],
        ]),
  ];
}

/** A command line for hyperfine -N (which splits on spaces and honours quotes). */
function commandLine(argv) {
  return argv.map((arg) => (arg === '' ? "''" : /[\s'"()]/.test(arg) ? `"${arg}"` : arg)).join(' ');
}

/** Rounds of the interleaved pass: every command once per round, in a rotated order. */
const INTERLEAVED_ROUNDS = Number(process.env.BENCH_INTERLEAVED_ROUNDS ?? 30);

/**
 * hyperfine runs each command's 40 runs back to back, so a machine whose speed drifts (a shared VM) moves one
 * command's figure and not its neighbour's. This pass runs every command once per round, in a rotated order,
 * and keeps each command's median: drift then touches all of them alike, and the ratios hold still.
 */
function interleavedMedians(list, options) {
  const samples = list.map(() => []);
  for (let round = 0; round < INTERLEAVED_ROUNDS; round += 1) {
    for (let k = 0; k < list.length; k += 1) {
      const i = (k + round) % list.length;
      const [, , argv] = list[i];
      const started = process.hrtime.bigint();
      const child = spawnSync(argv[0], argv.slice(1), { ...options, stdio: 'ignore', timeout: 30_000 });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (child.status !== 0) throw new Error(`${commandLine(argv)} exited ${child.status ?? child.signal}`);
      samples[i].push(ms);
    }
  }
  return samples.map(median);
}

/** The floor for `api info` as a whole (the stored login read, one node:http GET), with `preload`. */
function floorLoginGet(preload, endpoint) {
  const floorInfo = path.join(__dirname, '..', 'floor-info.js');
  return [
    process.execPath,
    '-r',
    preload,
    floorInfo,
    `${endpoint}/api/health`,
    'node-http',
    endpointFolderPrefix(endpoint),
  ];
}

/**
 * Runs each command of `list` ([key, argv]) once per round, in turn, with `env` added (the file a preload
 * writes at exit); per key, what `read` returns after each run.
 */
function runInTurn(list, rounds, options, env, read) {
  const samples = Object.fromEntries(list.map(([key]) => [key, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const [key, argv] of list) {
      const child = spawnSync(argv[0], argv.slice(1), {
        ...options,
        env: { ...options.env, ...env },
        stdio: 'ignore',
        timeout: 30_000,
      });
      if (child.status !== 0) throw new Error(`${commandLine(argv)} exited ${child.status ?? child.signal}`);
      samples[key].push(read());
    }
  }
  return samples;
}

/** Runs of each command with bench/start-phases.js preloaded (interleaved, medians per mark). */
const PHASE_RUNS = Number(process.env.BENCH_PHASE_RUNS ?? 15);

/**
 * Where a start goes: `api info`, `api info --offline`, the floor for api info (the stored login read, one
 * node:http GET) and a bare `node -e ''`, each run PHASE_RUNS times in
 * turn with bench/start-phases.js preloaded; for every mark, the median of its ms (since Node started) and of
 * the page faults so far. Marks a run did not reach are left out of that command's list.
 */
function startPhases(endpoint, options) {
  const preload = path.join(__dirname, '..', 'start-phases.js');
  const list = [
    ['online', [process.execPath, '-r', preload, CLI, 'api', 'info', '-e', endpoint]],
    ['offline', [process.execPath, '-r', preload, CLI, 'api', 'info', '--offline', '-e', endpoint]],
    ['floor', floorLoginGet(preload, endpoint)],
    ['bare', [process.execPath, '-r', preload, '-e', '']],
  ];
  const file = path.join(options.env.COOKIE_BRIDGE_HOME, 'start-phases.json');
  const runs = runInTurn(list, PHASE_RUNS, options, { BENCH_START_PHASES_FILE: file }, () =>
    JSON.parse(fs.readFileSync(file, 'utf8')),
  );
  return Object.fromEntries(
    Object.entries(runs).map(([key, marksOfRuns]) => {
      const names = marksOfRuns[0].map((m) => m.mark);
      const marks = names.map((name) => {
        const found = marksOfRuns.map((marks) => marks.find((m) => m.mark === name)).filter(Boolean);
        const young = found.map((m) => m.youngKB).filter((kb) => kb !== undefined);
        return {
          mark: name,
          ms: median(found.map((m) => m.ms)),
          faults: found[0].faults === null ? null : median(found.map((m) => m.faults)),
          ...(young.length === 0 ? {} : { youngKB: median(young) }),
        };
      });
      return [key, marks];
    }),
  );
}

/** Starts of each command with bench/young-at-exit.js preloaded, in turn. */
const YOUNG_RUNS = 10;

/**
 * The young generation in use at exit (median KB) for `api info` and its floor, with a preload that loads
 * nothing until the exit (bench/young-at-exit.js): whether a start ran a young-generation collection, which
 * the phase runs cannot tell (their preload's own allocation brings one about).
 */
function youngAtExit(endpoint, options) {
  const preload = path.join(__dirname, '..', 'young-at-exit.js');
  const list = [
    ['online', [process.execPath, '-r', preload, CLI, 'api', 'info', '-e', endpoint]],
    ['floor', floorLoginGet(preload, endpoint)],
  ];
  const file = path.join(options.env.COOKIE_BRIDGE_HOME, 'young-at-exit.txt');
  const samples = runInTurn(list, YOUNG_RUNS, options, { BENCH_YOUNG_FILE: file }, () =>
    Number(fs.readFileSync(file, 'utf8')),
  );
  return Object.fromEntries(Object.entries(samples).map(([key, kbs]) => [key, median(kbs)]));
}

async function sectionColdStart(results) {
  // Section 1 leaves its upstream and login behind; start our own when it did not run.
  results.upstream ??= await startUpstreamWithLogin(randomCookie());
  const { url: endpoint, home, cookie } = results.upstream;
  // NODE_EXTRA_CA_CERTS makes every Node start parse that file's certificates (a whole system bundle: most of
  // a bare start here), which would hide the CLI's own cost in every ratio: off for this section, shown in a
  // row of its own when the machine sets it. The code cache goes to a folder of this run.
  const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS || undefined;
  const env = childEnv({
    COOKIE_BRIDGE_HOME: home,
    BENCH_COOKIE: cookie,
    XDG_CACHE_HOME: fs.mkdtempSync(path.join(home, 'cache-')),
  });
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_DISABLE_COMPILE_CACHE;
  const exportFile = path.join(home, 'hyperfine.json');
  const list = commands(endpoint, extraCaCerts);
  const check = await run(process.execPath, [CLI, 'api', 'info', '-e', endpoint, '--json'], { env }, 30_000);
  if (!/"state": "ok"/.test(check.stdout))
    throw new Error(`api info does not reach the upstream: ${check.stdout}${check.stderr}`);
  // From the checkout, so require('undici') resolves as it does for the CLI.
  const hyperfine = await run(
    'hyperfine',
    [
      '-N',
      '--warmup',
      '5',
      '--runs',
      '40',
      '--export-json',
      exportFile,
      ...list.map(([, , argv]) => commandLine(argv)),
    ],
    { env, cwd: ROOT },
    300_000,
  );
  if (hyperfine.code !== 0) throw new Error(`hyperfine failed: ${hyperfine.stderr}`);
  const rows = JSON.parse(fs.readFileSync(exportFile, 'utf8')).results.map((r, i) => ({
    key: list[i][0],
    label: list[i][1],
    mean: r.mean * 1000,
    stddev: r.stddev * 1000,
    median: r.median * 1000,
  }));
  const medians = interleavedMedians(list, { env, cwd: ROOT });
  rows.forEach((row, i) => (row.interleavedMedian = medians[i]));
  const phases = startPhases(endpoint, { env, cwd: ROOT });
  const youngKB = youngAtExit(endpoint, { env, cwd: ROOT });
  results.coldStart = {
    rows,
    extraCaCerts,
    rounds: INTERLEAVED_ROUNDS,
    ...Object.fromEntries(rows.map((row) => [row.key, row])),
    phases,
    youngKB,
  };
}

module.exports = { sectionColdStart };
