'use strict';
/** The results as the Markdown that goes into bench/README.md: one table per section, targets met or missed. */
const { WRK_SECONDS } = require('./settings');

const mb = (kb) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(1)} MB`);
const fixed = (n, digits = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
const verdict = (ok) => (ok === undefined ? 'n/a' : ok ? 'met' : '**missed**');

function throughputLines(t) {
  const { direct, nginx } = t.rows;
  const cb = t.rows['cookie-bridge proxy'];
  const lines = [`### 1. HTTP: wrk -t2 -c32 -d${WRK_SECONDS}s, 1 KiB JSON`, ''];
  lines.push('| path | requests/s | p50 ms | p99 ms | non-2xx |', '|---|---:|---:|---:|---:|');
  for (const [label, row] of Object.entries(t.rows)) {
    lines.push(
      `| ${label} | ${fixed(row.rps, 0)} | ${fixed(row.p50, 2)} | ${fixed(row.p99, 2)} | ${row.non2xx} |`,
    );
  }
  const ratio = cb.rps / nginx.rps;
  const added = cb.p99 - direct.p99;
  lines.push(
    '',
    `cookie-bridge / nginx requests/s: ${fixed(ratio, 2)}× (target ≥ 0.6×: ${verdict(ratio >= 0.6)}); ` +
      `p99 added over direct: ${fixed(added, 2)} ms (target ≤ 2 ms: ${verdict(added <= 2)}); ` +
      `proxy peak RSS ${mb(t.proxyPeakRss)}; the proxy process used ${fixed(t.proxyCpu * 100, 0)} % of one CPU during its run (warm-up included).`,
    '',
  );
  return lines;
}

function streamingLines(s) {
  const lines = ['### 2. 1 GiB response (/api/bytes of the demo API)', ''];
  lines.push('| path | seconds | MiB/s | peak RSS of cookie-bridge |', '|---|---:|---:|---:|');
  lines.push(`| direct (curl) | ${fixed(s.direct.seconds, 2)} | ${fixed(s.direct.mbps, 0)} | – |`);
  lines.push(
    `| curl → cookie-bridge proxy | ${fixed(s.viaProxy.seconds, 2)} | ${fixed(s.viaProxy.mbps, 0)} | ${mb(s.viaProxy.peakKb)} |`,
  );
  lines.push(
    `| cookie-bridge request > /dev/null | ${fixed(s.viaRequest.seconds, 2)} | ${fixed(s.viaRequest.mbps, 0)} | ${mb(s.viaRequest.peakKb)} |`,
  );
  const worstPeak = Math.max(s.viaProxy.peakKb || Infinity, s.viaRequest.peakKb || Infinity) / 1024;
  const worstRatio = Math.min(s.viaProxy.mbps, s.viaRequest.mbps) / s.direct.mbps;
  lines.push(
    '',
    `Peak RSS target ≤ 80 MB: ${verdict(worstPeak <= 80)}; throughput ≥ 0.5× direct: ${fixed(worstRatio, 2)}× (${verdict(worstRatio >= 0.5)}). ` +
      '`request` time includes its start-up.',
    '',
  );
  return lines;
}

function coldStartLines(c) {
  const lines = ['### 3. Cold start (hyperfine -N, 40 runs, 5 warm-up)', ''];
  lines.push("| command | mean ms | ± ms | median ms | × node -e '' |", '|---|---:|---:|---:|---:|');
  for (const [label, row] of [
    ["node -e ''", c.node],
    ['api info --offline', c.offline],
    ['api info (local server)', c.online],
  ]) {
    lines.push(
      `| ${label} | ${fixed(row.mean)} | ${fixed(row.stddev)} | ${fixed(row.median)} | ${fixed(row.mean / c.node.mean, 2)} |`,
    );
  }
  const ratio = c.offline.mean / c.node.mean;
  lines.push(
    '',
    `api info --offline: ${fixed(ratio, 2)}× node -e '' (target ≤ 1.5×: ${verdict(ratio <= 1.5)}).`,
    '',
  );
  lines.push('Slowest requires of `api info --offline` (inclusive ms, nested):', '', '```');
  for (const r of c.requires) lines.push(`${'  '.repeat(r.depth)}${r.id}  ${r.ms} ms`);
  lines.push('```', '');
  return lines;
}

function loginLines(l) {
  return [
    '### 4. Login: bundle POSTed to the loopback listener → CLI exit',
    '',
    `${l.samples.length} runs: median ${fixed(l.median)} ms, max ${fixed(l.max)} ms (target ≤ 100 ms: ${verdict(l.median <= 100)}); ` +
      `samples ${l.samples.map((x) => fixed(x, 0)).join(', ')} ms.`,
    '',
  ];
}

/** The Markdown report: the machine note, each section that produced results, then each failure. */
function report(note, results, errors) {
  const lines = [note, ''];
  if (results.throughput) lines.push(...throughputLines(results.throughput));
  if (results.streaming) lines.push(...streamingLines(results.streaming));
  if (results.coldStart) lines.push(...coldStartLines(results.coldStart));
  if (results.login) lines.push(...loginLines(results.login));
  for (const [section, error] of errors) lines.push(`Section ${section} failed: ${error}`, '');
  return lines.join('\n');
}

module.exports = { report };
