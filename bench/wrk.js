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
  return {
    rps: rps ? Number(rps[1]) : undefined,
    p50: pct(50),
    p99: pct(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    errors: errors ? errors[0] : '',
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

module.exports = { wrk, parseWrk };
