'use strict';
/** Runs wrk (2 s warm-up, then the measured run) and reads requests/s, p50/p99 and errors from its output. */
const { WRK_SECONDS } = require('./settings');
const { run } = require('./processes');

function parseWrk(text) {
  const toMs = (value, unit) => Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const pct = (p) => {
    const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
    return match ? toMs(match[1], match[2]) : undefined;
  };
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const errors = /Socket errors:.*/.exec(text);
  const requests = /(\d+) requests in/.exec(text);
  return {
    requests: requests ? Number(requests[1]) : undefined,
    rps: rps ? Number(rps[1]) : undefined,
    p50: pct(50),
    p99: pct(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: errors ? errors[0] : '',
    /** connect + read + write + timeout errors (0 when wrk printed no "Socket errors" line). */
    socketErrors: errors ? [...errors[0].matchAll(/\d+/g)].reduce((sum, [n]) => sum + Number(n), 0) : 0,
  };
}

async function wrk(url, headers = []) {
  const headerArgs = headers.flatMap((header) => ['-H', header]);
  await run('wrk', ['-t2', '-c32', '-d2s', ...headerArgs, url], {}, 30_000); // warm-up
  const result = await run(
    'wrk',
    ['-t2', '-c32', `-d${WRK_SECONDS}s`, '--latency', ...headerArgs, url],
    {},
    (WRK_SECONDS + 30) * 1000,
  );
  if (result.code !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  return parseWrk(result.stdout);
}

/**
 * The load run's wrk: `connections` keep-alive connections for BENCH_WRK_SECONDS, no warm-up, a 10 s
 * per-request timeout (a slow answer under load is reported as late, not lost). Its open-files limit is
 * raised to the hard limit first (wrk needs one descriptor per connection).
 */
async function wrkLoad(url, headers, connections) {
  const headerArgs = headers.flatMap((header) => ['-H', header]);
  const args = ['-t2', `-c${connections}`, `-d${WRK_SECONDS}s`, '--timeout', '10s', '--latency'];
  const result = await run(
    'sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec wrk "$@"', 'wrk', ...args, ...headerArgs, url],
    {},
    (WRK_SECONDS + 60) * 1000,
  );
  if (result.code !== 0) throw new Error(`wrk failed: ${result.stderr}`);
  return parseWrk(result.stdout);
}

module.exports = { wrk, wrkLoad, parseWrk };
