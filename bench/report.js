'use strict';
/**
 * The results as the Markdown that goes into bench/README.md: the summary "measure | now | target | met?"
 * first, then one table per section with its comparisons and floors, each headed by the load average when
 * the section started, then each failure.
 */
const { WRK_SECONDS } = require('./settings');

const mb = (kb) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(1)} MB`);
const fixed = (n, digits = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
/** A difference with its sign: +1.20 or -0.40. */
const signed = (n, digits = 2) =>
  n === undefined || Number.isNaN(n) ? 'n/a' : `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;
const verdict = (ok) => (ok === undefined ? 'n/a' : ok ? 'met' : '**missed**');
const loadNote = (load) => (load ? ` (load average ${load.map((x) => x.toFixed(1)).join(' ')})` : '');

const { FLOOR_CLIENTS, floorLabel } = require('./sections/throughput');

/** The floor proxies' rows of section 1 that ran, and the fastest of them. */
function floorRows(t) {
  const rows = FLOOR_CLIENTS.map((client) => [client, t.rows[floorLabel(client)]]).filter(([, row]) => row);
  const best = rows.reduce((a, b) => (b[1].rps > a[1].rps ? b : a), rows[0]);
  return { rows, best: best[1], bestClient: best[0] };
}

/** The summary rows, computed from the sections that ran: [measure, now, target, met]. */
function summaryRows(results) {
  const rows = [];
  const t = results.throughput;
  if (t) {
    const { direct, nginx } = t.rows;
    const cb = t.rows['cookie-bridge proxy'];
    const floors = floorRows(t);
    const ratio = cb.rps / nginx.rps;
    const added = cb.p99 - direct.p99;
    rows.push([
      'local proxy requests/s vs nginx (1 worker), wrk -c32, 1 KiB',
      `${fixed(ratio, 2)}× (${fixed(cb.rps, 0)} vs ${fixed(nginx.rps, 0)}/s; floor proxy ${floors.rows
        .map(([client, row]) => `${client} ${fixed(row.rps / nginx.rps, 2)}×`)
        .join(', ')})`,
      '≥ 0.6×',
      verdict(ratio >= 0.6),
    ]);
    const workers = t.rows['cookie-bridge proxy --workers 2'];
    if (workers !== undefined) {
      rows.push([
        'local proxy `--workers 2` requests/s vs nginx (1 worker)',
        `${fixed(workers.rps / nginx.rps, 2)}× (p99 ${signed(workers.p99 - direct.p99)} ms over direct)`,
        '–',
        '–',
      ]);
    }
    rows.push([
      'p99 added by the local proxy over direct',
      `${signed(added)} ms (floor proxy ${floors.rows
        .map(([client, row]) => `${client} ${signed(row.p99 - direct.p99)} ms`)
        .join(', ')})`,
      '≤ 2 ms',
      verdict(added <= 2),
    ]);
  }
  const s = results.streaming;
  if (s) {
    const proxyRatio = s.viaProxy.mbps / s.direct.mbps;
    const requestRatio = s.viaRequest.mbps / s.direct.mbps;
    const floorProxyRatio = s.viaFloorProxy.mbps / s.direct.mbps;
    const floorUndiciRatio = s.viaFloorUndici.mbps / s.direct.mbps;
    const floorRequestRatio = s.viaFloorRequest.mbps / s.direct.mbps;
    rows.push([
      '1 GiB curl → local proxy vs curl direct',
      `${fixed(proxyRatio, 2)}× (floor proxy node-http ${fixed(floorProxyRatio, 2)}×, undici ${fixed(floorUndiciRatio, 2)}×)`,
      '≥ 0.5×',
      verdict(proxyRatio >= 0.5),
    ]);
    rows.push([
      'local proxy peak RSS (1 GiB)',
      `${mb(s.viaProxy.peakKb)} (floor proxy node-http ${mb(s.viaFloorProxy.peakKb)}, undici ${mb(s.viaFloorUndici.peakKb)})`,
      '≤ 80 MB',
      verdict(s.viaProxy.peakKb === undefined ? undefined : s.viaProxy.peakKb / 1024 <= 80),
    ]);
    rows.push([
      '`request /big > /dev/null` 1 GiB vs curl direct',
      `${fixed(requestRatio, 2)}× (floor request ${fixed(floorRequestRatio, 2)}×)`,
      '≥ 0.5×',
      verdict(requestRatio >= 0.5),
    ]);
    rows.push([
      '`request` peak RSS (1 GiB)',
      `${mb(s.viaRequest.peakKb)} (floor request ${mb(s.viaFloorRequest.peakKb)})`,
      '≤ 80 MB',
      verdict(s.viaRequest.peakKb === undefined ? undefined : s.viaRequest.peakKb / 1024 <= 80),
    ]);
  }
  const c = results.coldStart;
  if (c) {
    // The interleaved medians when measured (robust to a drifting machine), else hyperfine's means.
    const x = (row) =>
      row.interleavedMedian === undefined
        ? row.mean / c.node.mean
        : row.interleavedMedian / c.node.interleavedMedian;
    const floorGet =
      c.floorInfoNodeHttp === undefined
        ? ''
        : ` (floor: one node:http GET ${fixed(x(c.floorInfoNodeHttp), 2)}×` +
          (c.floorInfoStored === undefined
            ? ')'
            : `; read the login, then the GET ${fixed(x(c.floorInfoStored), 2)}×)`);
    rows.push([
      "`api info` with its server check vs `node -e ''`",
      `${fixed(x(c.online), 2)}×${floorGet}`,
      '≤ 1.5×',
      verdict(x(c.online) <= 1.5),
    ]);
    const floorRead =
      c.floorOffline === undefined
        ? ''
        : ` (floor: read and print the login ${fixed(x(c.floorOffline), 2)}×)`;
    rows.push([
      "`api info --offline` vs `node -e ''`",
      `${fixed(x(c.offline), 2)}×${floorRead}`,
      '≤ 1.3×',
      verdict(x(c.offline) <= 1.3),
    ]);
    rows.push(["`--version` vs `node -e ''`", `${fixed(x(c.version), 2)}×`, '–', '–']);
  }
  if (results.login) {
    const l = results.login;
    rows.push([
      'login tail: bundle POST → CLI exit (median)',
      `${fixed(l.median)} ms`,
      '≤ 100 ms',
      verdict(l.median <= 100),
    ]);
  }
  if (results.load) {
    for (const [label, r] of Object.entries(results.load.rows)) {
      const errors = loadErrors(r);
      rows.push([
        `${label} under load: errors / lost / reordered WebSocket messages`,
        `${errors} / ${r.ws.lost} / ${r.ws.outOfOrder}; RSS peak ${mb(r.peak.rssKb)}, after ${mb(r.after.rssKb)}`,
        '0 / 0 / 0',
        verdict(loadClean(r)),
      ]);
    }
  }
  return rows;
}

/** wrk socket errors + non-2xx + WebSocket errors. */
function loadErrors(r) {
  return r.http.socketErrors + r.http.non2xx + r.ws.errors;
}

function loadClean(r) {
  return (
    loadErrors(r) === 0 &&
    r.ws.lost === 0 &&
    r.ws.outOfOrder === 0 &&
    r.ws.opened === r.ws.sockets &&
    r.ws.closed === r.ws.sockets &&
    r.clientConnections === 0
  );
}

function summaryLines(results) {
  const rows = summaryRows(results);
  if (rows.length === 0) return [];
  const lines = ['### Summary', '', '| measure | now | target | met? |', '|---|---|---|---|'];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');
  return lines;
}

function throughputLines(t) {
  const { direct, nginx } = t.rows;
  const cb = t.rows['cookie-bridge proxy'];
  const floors = floorRows(t);
  const lines = [`### 1. HTTP: wrk -t2 -c32 -d${WRK_SECONDS}s, 1 KiB JSON${loadNote(t.loadAverage)}`, ''];
  lines.push('| path | requests/s | × nginx | p50 ms | p99 ms | p99 over direct ms | non-2xx |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const [label, row] of Object.entries(t.rows)) {
    lines.push(
      `| ${label} | ${fixed(row.rps, 0)} | ${fixed(row.rps / nginx.rps, 2)} | ${fixed(row.p50, 2)} | ${fixed(row.p99, 2)} | ` +
        `${label === 'direct' ? '–' : signed(row.p99 - direct.p99)} | ${row.non2xx} |`,
    );
  }
  const ratio = cb.rps / nginx.rps;
  const added = cb.p99 - direct.p99;
  lines.push(
    '',
    `cookie-bridge / nginx requests/s: ${fixed(ratio, 2)}× (target ≥ 0.6×: ${verdict(ratio >= 0.6)}); ` +
      `p99 added over direct: ${signed(added)} ms (target ≤ 2 ms: ${verdict(added <= 2)}). ` +
      `Floor: the fastest floor proxy (${floors.bestClient}) reaches ${fixed(floors.best.rps / nginx.rps, 2)}× nginx, ` +
      `cookie-bridge ${fixed(cb.rps / floors.best.rps, 2)}× that floor. ` +
      `Peak RSS: cookie-bridge proxy ${mb(t.proxyPeakRss)}, ${Object.entries(t.floorPeakRss)
        .map(([client, kb]) => `floor proxy ${client} ${mb(kb)}`)
        .join(', ')}; ` +
      `the proxy process used ${fixed(t.proxyCpu * 100, 0)} % of one CPU during its run (warm-up included).`,
    '',
  );
  return lines;
}

function streamingLines(s) {
  const lines = [`### 2. 1 GiB response (/api/bytes of the demo API)${loadNote(s.loadAverage)}`, ''];
  lines.push('| path | seconds | MiB/s | × direct | peak RSS |', '|---|---:|---:|---:|---:|');
  const row = (label, r) =>
    lines.push(
      `| ${label} | ${fixed(r.seconds, 2)} | ${fixed(r.mbps, 0)} | ${fixed(r.mbps / s.direct.mbps, 2)} | ${r.peakKb === undefined ? '–' : mb(r.peakKb)} |`,
    );
  row('direct (curl)', s.direct);
  row('curl → floor proxy (node:http agent, pipe)', s.viaFloorProxy);
  row('curl → floor proxy (undici Pool stream)', s.viaFloorUndici);
  row('curl → cookie-bridge proxy', s.viaProxy);
  row('floor request (undici → stdout) > /dev/null', s.viaFloorRequest);
  row('cookie-bridge request > /dev/null', s.viaRequest);
  const worstPeak = Math.max(s.viaProxy.peakKb || Infinity, s.viaRequest.peakKb || Infinity) / 1024;
  const worstRatio = Math.min(s.viaProxy.mbps, s.viaRequest.mbps) / s.direct.mbps;
  lines.push(
    '',
    `Peak RSS target ≤ 80 MB: ${verdict(worstPeak <= 80)}; throughput ≥ 0.5× direct: ${fixed(worstRatio, 2)}× (${verdict(worstRatio >= 0.5)}). ` +
      `Each row ran once per round, ${s.rounds ?? 1} rounds in a rotated order: the median time, and the highest peak RSS of the rounds. ` +
      'The `request` rows include start-up; peak RSS is VmHWM (the proxies: read from /proc before they stop; ' +
      'the clients: written at exit by bench/peak-rss.js).',
    '',
  );
  return lines;
}

function coldStartLines(c) {
  const lines = [`### 3. Cold start (hyperfine -N, 40 runs, 5 warm-up)${loadNote(c.loadAverage)}`, ''];
  const interleaved = c.node.interleavedMedian !== undefined;
  const x = (row) =>
    interleaved ? row.interleavedMedian / c.node.interleavedMedian : row.mean / c.node.mean;
  lines.push(
    interleaved
      ? "| command | mean ms | ± ms | median ms | × node -e '' | interleaved median ms | × node -e '' (interleaved) |"
      : "| command | mean ms | ± ms | median ms | × node -e '' |",
    interleaved ? '|---|---:|---:|---:|---:|---:|---:|' : '|---|---:|---:|---:|---:|',
  );
  for (const row of c.rows) {
    const hyperfine = `| ${row.label} | ${fixed(row.mean)} | ${fixed(row.stddev)} | ${fixed(row.median)} | ${fixed(row.mean / c.node.mean, 2)} |`;
    lines.push(
      interleaved ? `${hyperfine} ${fixed(row.interleavedMedian)} | ${fixed(x(row), 2)} |` : hyperfine,
    );
  }
  if (interleaved) {
    lines.push(
      '',
      `The verdicts use the interleaved pass (${c.rounds ?? 'several'} rounds, every command once per round in a rotated order, medians): hyperfine's back-to-back runs move with a drifting machine.`,
    );
  }
  const online = x(c.online);
  const offline = x(c.offline);
  const ms = (row) => (interleaved ? row.interleavedMedian : row.mean);
  lines.push(
    '',
    `api info with its server check: ${fixed(online, 2)}× node -e '' (target ≤ 1.5×: ${verdict(online <= 1.5)}); ` +
      `api info --offline: ${fixed(offline, 2)}× (target ≤ 1.3×: ${verdict(offline <= 1.3)}); ` +
      `--version: ${fixed(x(c.version), 2)}×.` +
      (c.floorInfoNodeHttp === undefined
        ? ''
        : ` The floor for the server check, one node:http GET (what api info uses) and nothing else: ` +
          `${fixed(x(c.floorInfoNodeHttp), 2)}× (api info adds ${fixed(ms(c.online) - ms(c.floorInfoNodeHttp))} ms to it; ` +
          `with undici ${fixed(x(c.floorInfo), 2)}×).`) +
      (c.floorInfoStored === undefined
        ? ''
        : ` Reading the stored login first, then that GET with its cookie (no checks, no parser): ` +
          `${fixed(x(c.floorInfoStored), 2)}× (api info adds ${fixed(ms(c.online) - ms(c.floorInfoStored))} ms to it).`) +
      (c.floorOffline === undefined
        ? ''
        : ` The floor for --offline, reading and printing the two files: ${fixed(x(c.floorOffline), 2)}× ` +
          `(api info --offline adds ${fixed(ms(c.offline) - ms(c.floorOffline))} ms to it).`) +
      (c.coreLoad === undefined
        ? ''
        : ` Loading the core bundle alone, without a code cache: ${fixed(x(c.coreLoad), 2)}×.`) +
      (c.offlineNoCodeCache === undefined
        ? ''
        : ` The code cache takes ${fixed(ms(c.offlineNoCodeCache) - ms(c.offline))} ms off api info --offline ` +
          `(${fixed(x(c.offlineNoCodeCache), 2)}× without it, env(1) included).`),
    '',
  );
  if (c.nodeExtraCa !== undefined) {
    lines.push(
      `NODE_EXTRA_CA_CERTS is set on this machine (${c.extraCaCerts}); every row above runs without it, because ` +
        `Node parses that file at every start: \`node -e ''\` with it takes ${fixed(ms(c.nodeExtraCa))} ms ` +
        `(${fixed(x(c.nodeExtraCa), 2)}×), which would hide the CLI's own cost in every ratio.`,
      '',
    );
  }
  if (c.phases !== undefined) lines.push(...phaseLines(c.phases, c.youngKB));
  return lines;
}

/**
 * Where one start goes (bench/start-phases.js): per mark, ms since Node started and the growth of each
 * phase (ms, minor page faults) from the mark before, for api info and api info --offline side by side.
 */
function phaseLines(p, youngKB) {
  const delta = (marks) =>
    new Map(
      marks.map((m, i) => [
        m.mark,
        {
          ms: m.ms,
          dms: i === 0 ? undefined : m.ms - marks[i - 1].ms,
          dfaults: i === 0 || m.faults === null ? undefined : m.faults - marks[i - 1].faults,
          faults: m.faults,
        },
      ]),
    );
  const online = delta(p.online);
  const offline = delta(p.offline);
  const floor = p.floor === undefined ? new Map() : delta(p.floor);
  const cell = (d) =>
    d === undefined
      ? '– | – | –'
      : `${fixed(d.ms)} | ${d.dms === undefined ? '–' : `+${fixed(d.dms)}`} | ${
          d.dfaults === undefined ? (d.faults ?? '–') : `+${d.dfaults}`
        }`;
  const lines = [
    'Where one start goes (`bench/start-phases.js` preloaded, each command in turn, medians per mark; ms since Node ' +
      'started, then what the phase that ends at the mark added: ms and minor page faults; the first row gives the faults so far). ' +
      'The floor reads the stored login with readFileSync (no store marks) and makes the same GET with node:http:',
    '',
    '| mark | api info ms | + ms | + faults | api info --offline ms | + ms | + faults | floor: login + GET ms | + ms | + faults |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const names = [...new Set([...online.keys(), ...offline.keys()])];
  for (const name of names)
    lines.push(
      `| ${name} | ${cell(online.get(name))} | ${cell(offline.get(name))} | ${cell(floor.get(name))} |`,
    );
  const [start, end] = [p.bare[0], p.bare[p.bare.length - 1]];
  lines.push(
    '',
    `A bare \`node -e ''\` with the same preload: its script starts at ${fixed(start.ms)} ms (${start.faults ?? '–'} faults) ` +
      `and exits at ${fixed(end.ms)} ms (${end.faults ?? '–'}). Node's teardown after \`exit\` is in the wall-clock rows above only.`,
    '',
  );
  const youngAt = (marks) => marks?.[marks.length - 1]?.youngKB;
  const kb = (value) => (value === undefined ? '–' : `${fixed(value, 0)} KB`);
  if (youngKB !== undefined) {
    lines.push(
      `Young generation in use at exit (median; a start that ran no young-generation collection still holds all it ` +
        `allocated, ~0.8 MB for \`api info\`, and one that ran a collection about half): with a preload that reads it ` +
        `only at exit (\`bench/young-at-exit.js\`), api info ${kb(youngKB.online)}, the floor ${kb(youngKB.floor)}; ` +
        `in the phase runs above, whose preload allocates ~47 KB itself, api info ${kb(youngAt(p.online))}, ` +
        `--offline ${kb(youngAt(p.offline))}, the floor ${kb(youngAt(p.floor))}.`,
      '',
    );
  }
  return lines;
}

function loginLines(l) {
  return [
    `### 4. Login: bundle POSTed to the loopback listener → CLI exit${loadNote(l.loadAverage)}`,
    '',
    `${l.samples.length} runs: median ${fixed(l.median)} ms, max ${fixed(l.max)} ms (target ≤ 100 ms: ${verdict(l.median <= 100)}); ` +
      `samples ${l.samples.map((x) => fixed(x, 0)).join(', ')} ms.`,
    '',
  ];
}

function loadLines(load) {
  const { HTTP_CONNECTIONS, WEBSOCKETS, WS_MESSAGES } = require('./sections/load');
  const lines = [
    `### 5. Load: wrk -t2 -c${HTTP_CONNECTIONS} -d${WRK_SECONDS}s and ${WEBSOCKETS} WebSockets × ${WS_MESSAGES} echoes at once${loadNote(load.loadAverage)}`,
    '',
    '| target | requests/s | p99 ms | HTTP errors | WebSockets opened / peak open / closed | WS errors | lost | reordered | RSS before / peak / after | fds before / peak / after | client connections after |',
    '|---|---:|---:|---:|---|---:|---:|---:|---|---|---:|',
  ];
  for (const [label, r] of Object.entries(load.rows)) {
    lines.push(
      `| ${label} | ${fixed(r.http.rps, 0)} | ${fixed(r.http.p99, 1)} | ${r.http.socketErrors + r.http.non2xx} | ` +
        `${r.ws.opened} / ${r.ws.peakOpen} / ${r.ws.closed} | ${r.ws.errors} | ${r.ws.lost} | ${r.ws.outOfOrder} | ` +
        `${mb(r.before.rssKb)} / ${mb(r.peak.rssKb)} / ${mb(r.after.rssKb)} | ${r.before.fds} / ${r.peak.fds} / ${r.after.fds} | ${r.clientConnections} |`,
    );
  }
  lines.push('');
  for (const [label, r] of Object.entries(load.rows)) {
    const notes = [];
    if (r.http.errors) notes.push(`wrk: ${r.http.errors}`);
    if (r.ws.errorSamples.length > 0)
      notes.push(`WebSocket errors, first ones: ${r.ws.errorSamples.join('; ')}`);
    lines.push(
      `${label}: ${verdict(loadClean(r))} (no errors, nothing lost or reordered, every socket closed); ` +
        `${r.http.requests ?? 'n/a'} requests, WebSocket run ${fixed(r.ws.seconds, 1)} s; open-files limit of the process ${r.maxOpenFiles}; ` +
        `load average after ${r.loadAverage.map((x) => x.toFixed(1)).join(' ')}.${notes.length ? ` ${notes.join('. ')}.` : ''}`,
      '',
    );
  }
  lines.push(
    `ulimit -n of the harness (soft hard): ${load.ulimit}; wrk runs with its soft limit raised to the hard one. ` +
      "RSS peak is the highest VmRSS sampled every 200 ms; fds after include the target's idle keep-alive connections to the upstream.",
    '',
  );
  return lines;
}

/** The Markdown report: the machine note, the summary, each section that produced results, then each failure. */
function report(note, results, errors) {
  const lines = [note, ''];
  lines.push(...summaryLines(results));
  if (results.throughput) lines.push(...throughputLines(results.throughput));
  if (results.streaming) lines.push(...streamingLines(results.streaming));
  if (results.coldStart) lines.push(...coldStartLines(results.coldStart));
  if (results.login) lines.push(...loginLines(results.login));
  if (results.load) lines.push(...loadLines(results.load));
  for (const [section, error] of errors) lines.push(`Section ${section} failed: ${error}`, '');
  return lines.join('\n');
}

module.exports = { report, summaryRows };
