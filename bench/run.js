#!/usr/bin/env node
'use strict';
/**
 * cookie-bridge benchmarks (`npm run bench` = build, then this). Plain Node, uses the built dist/.
 * Loopback traffic only; every section is bounded in time; every child process is killed at the end
 * (also on Ctrl-C). Writes the results table into bench/README.md between the results markers.
 *
 *   1. HTTP throughput and latency (wrk, 32 connections, 1 KiB JSON): direct, nginx injecting the
 *      Cookie, cookie-bridge proxy.
 *   2. A 1 GiB response: direct, through cookie-bridge proxy, through cookie-bridge request; peak RSS.
 *   3. Cold start (hyperfine): node -e '', api info --offline, api info.
 *   4. Login tail: bundle POSTed to the loopback listener → CLI exit.
 *
 * Environment: BENCH_WRK_SECONDS (default 10), BENCH_SECTIONS (e.g. "1,3"), BENCH_NO_README=1.
 */
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const ROOT = path.join(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const DIST_INDEX = path.join(ROOT, 'dist', 'src', 'index.js');
const SCRIPTED_BROWSER = path.join(ROOT, 'test', 'kit', 'scripted-browser.js');
const README = path.join(__dirname, 'README.md');
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS || 10);
const SECTIONS = new Set((process.env.BENCH_SECTIONS || '1,2,3,4').split(',').map((s) => s.trim()));
const GIB = 1024 ** 3;
const START_LOAD = os.loadavg();

// ---------- child processes ----------

const children = new Set();

function start(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  child.exitPromise = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  child.once('exit', () => children.delete(child));
  child.output = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr']) {
    if (child[name]) child[name].on('data', (chunk) => (child.output[name] += chunk.toString('utf8')));
  }
  return child;
}

function killAll() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

async function stop(child, signal = 'SIGTERM', graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitPromise;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const result = await child.exitPromise;
  clearTimeout(timer);
  return result;
}

function waitForOutput(child, stream, pattern, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = child.output[stream].match(pattern);
      if (match) {
        cleanup();
        resolve(match);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `timed out waiting for ${pattern} from ${child.spawnargs.join(' ')}:\n${child.output.stderr}`,
        ),
      );
    }, timeoutMs);
    const onExit = () => {
      cleanup();
      reject(
        new Error(`${child.spawnargs.join(' ')} exited before printing ${pattern}:\n${child.output.stderr}`),
      );
    };
    const cleanup = () => {
      clearTimeout(timer);
      child[stream].off('data', check);
      child.off('exit', onExit);
    };
    child[stream].on('data', check);
    child.once('exit', onExit);
    check();
  });
}

/** Runs a command to completion, killed after timeoutMs. */
async function run(command, args, options = {}, timeoutMs = 120_000) {
  const child = start(command, args, options);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const result = await child.exitPromise;
  clearTimeout(timer);
  return { ...result, stdout: child.output.stdout, stderr: child.output.stderr };
}

function withTimeout(promise, ms, label) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label} took longer than ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------- helpers ----------

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from ${url}`)));
  });
}

async function waitUntilUp(url, headers, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await get(url, headers);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function cookieLogin(home, endpoint, cookies) {
  const { FileCredentialStore } = require(DIST_INDEX);
  const store = new FileCredentialStore({ home });
  await store.saveLogin(
    {
      endpoint,
      auth: { type: 'cookies' },
      identity: 'bench@example.com',
      loggedInAt: new Date().toISOString(),
    },
    cookies,
  );
}

async function startCookieBridgeProxy(home, endpoint, extraArgs = [], nodeArgs = []) {
  const child = start(process.execPath, [...nodeArgs, CLI, 'proxy', '-e', endpoint, ...extraArgs], {
    env: { ...process.env, COOKIE_BRIDGE_HOME: home },
  });
  const [, url] = await waitForOutput(child, 'stdout', /^(http:\/\/127\.0\.0\.1:\d+)$/m);
  return { child, url };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function vmHwmKb(pid) {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const mb = (kb) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(1)} MB`);
const fixed = (n, digits = 1) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
const verdict = (ok) => (ok === undefined ? 'n/a' : ok ? 'met' : '**missed**');

// ---------- 1. wrk ----------

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

function nginxConfig(dir, listenPort, upstreamPort, cookie) {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream api { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Cookie "${cookie}";
    }
  }
}
`;
}

async function sectionThroughput(results) {
  const cookie = `session=${crypto.randomBytes(24).toString('base64url')}`;
  const upstream = start(process.execPath, [path.join(__dirname, 'upstream-server.js')], {
    env: { ...process.env, BENCH_COOKIE: cookie },
  });
  const [, upstreamPort] = await waitForOutput(upstream, 'stdout', /listening (\d+)/);
  const direct = `http://127.0.0.1:${upstreamPort}`;

  const nginxDir = tempDir('cookie-bridge-bench-nginx-');
  const nginxPort = await freePort();
  fs.writeFileSync(path.join(nginxDir, 'nginx.conf'), nginxConfig(nginxDir, nginxPort, upstreamPort, cookie));
  const nginx = start('nginx', [
    '-p',
    nginxDir,
    '-e',
    path.join(nginxDir, 'error.log'),
    '-c',
    path.join(nginxDir, 'nginx.conf'),
    '-g',
    'daemon off;',
  ]);
  const viaNginx = `http://127.0.0.1:${nginxPort}`;

  const home = tempDir('cookie-bridge-bench-home-');
  const [name, value] = cookie.split('=');
  await cookieLogin(home, direct, [{ name, value }]);
  const proxy = await startCookieBridgeProxy(home, direct);

  try {
    const checks = {
      direct: await waitUntilUp(`${direct}/api/items`, { cookie }),
      nginx: await waitUntilUp(`${viaNginx}/api/items`),
      proxy: await waitUntilUp(`${proxy.url}/api/items`),
    };
    for (const [label, status] of Object.entries(checks)) {
      if (status !== 200)
        throw new Error(`${label}: the upstream answered ${status} (credential not added?)`);
    }
    const rows = {
      direct: await wrk(`${direct}/api/items`, [`Cookie: ${cookie}`]),
      nginx: await wrk(`${viaNginx}/api/items`),
    };
    const cpuBefore = cpuSeconds(proxy.child.pid);
    const wallBefore = performance.now();
    rows['cookie-bridge proxy'] = await wrk(`${proxy.url}/api/items`);
    const proxyCpu = (cpuSeconds(proxy.child.pid) - cpuBefore) / ((performance.now() - wallBefore) / 1000);
    results.throughput = { rows, proxyPeakRss: vmHwmKb(proxy.child.pid), proxyCpu };
    results.throughput.home = home;
    results.throughput.upstream = { child: upstream, url: direct };
  } finally {
    await stop(proxy.child);
    await stop(nginx, 'SIGQUIT');
    fs.rmSync(nginxDir, { recursive: true, force: true });
  }
}

// ---------- 2. 1 GiB ----------

async function curlDownload(url) {
  const result = await run(
    'curl',
    ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{time_total}', url],
    {},
    300_000,
  );
  const [status, size, seconds] = result.stdout.trim().split(' ');
  if (result.code !== 0 || status !== '200' || Number(size) !== GIB) {
    throw new Error(`curl ${url}: ${result.stdout} ${result.stderr}`);
  }
  return { seconds: Number(seconds), mbps: GIB / 1024 ** 2 / Number(seconds) };
}

async function sectionStreaming(results) {
  const api = start(process.execPath, [path.join(ROOT, 'dist', 'fixtures', 'demo-api.js'), '0']);
  const [, apiUrl] = await waitForOutput(api, 'stdout', /listening on (http:\/\/\S+)/);
  const home = tempDir('cookie-bridge-bench-stream-');
  await cookieLogin(home, apiUrl, [{ name: 'session', value: crypto.randomBytes(24).toString('base64url') }]);
  const bytesPath = `/api/bytes?size=${GIB}`;
  try {
    const direct = await curlDownload(`${apiUrl}${bytesPath}`);
    const proxy = await startCookieBridgeProxy(home, apiUrl);
    let viaProxy;
    let proxyPeak;
    try {
      viaProxy = await curlDownload(`${proxy.url}${bytesPath}`);
      proxyPeak = vmHwmKb(proxy.child.pid);
    } finally {
      await stop(proxy.child);
    }
    const peakFile = path.join(home, 'peak-rss');
    const devNull = fs.openSync('/dev/null', 'w');
    const startedAt = performance.now();
    const request = await run(
      process.execPath,
      ['-r', path.join(__dirname, 'peak-rss.js'), CLI, 'request', '-s', '-e', apiUrl, bytesPath],
      {
        env: { ...process.env, COOKIE_BRIDGE_HOME: home, BENCH_PEAK_RSS_FILE: peakFile },
        stdio: ['ignore', devNull, 'pipe'],
      },
      300_000,
    );
    const requestSeconds = (performance.now() - startedAt) / 1000;
    fs.closeSync(devNull);
    if (request.code !== 0)
      throw new Error(`cookie-bridge request failed (${request.code}): ${request.stderr}`);
    const requestPeak = Number(fs.readFileSync(peakFile, 'utf8')) || undefined;
    results.streaming = {
      direct,
      viaProxy: { ...viaProxy, peakKb: proxyPeak },
      viaRequest: { seconds: requestSeconds, mbps: GIB / 1024 ** 2 / requestSeconds, peakKb: requestPeak },
    };
  } finally {
    await stop(api);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

// ---------- 3. cold start ----------

async function sectionColdStart(results) {
  let upstreamChild;
  let endpoint;
  let home;
  if (results.throughput && results.throughput.upstream) {
    ({ child: upstreamChild, url: endpoint } = results.throughput.upstream);
    home = results.throughput.home;
  } else {
    const cookie = `session=${crypto.randomBytes(24).toString('base64url')}`;
    upstreamChild = start(process.execPath, [path.join(__dirname, 'upstream-server.js')], {
      env: { ...process.env, BENCH_COOKIE: cookie },
    });
    const [, port] = await waitForOutput(upstreamChild, 'stdout', /listening (\d+)/);
    endpoint = `http://127.0.0.1:${port}`;
    home = tempDir('cookie-bridge-bench-home-');
    const [name, value] = cookie.split('=');
    await cookieLogin(home, endpoint, [{ name, value }]);
  }
  const env = { ...process.env, COOKIE_BRIDGE_HOME: home };
  const exportFile = path.join(home, 'hyperfine.json');
  const commands = [
    `${process.execPath} -e ''`,
    `${process.execPath} ${CLI} api info --offline -e ${endpoint}`,
    `${process.execPath} ${CLI} api info -e ${endpoint}`,
  ];
  const check = await run(process.execPath, [CLI, 'api', 'info', '-e', endpoint, '--json'], { env }, 30_000);
  if (!/"state": "ok"/.test(check.stdout))
    throw new Error(`api info does not reach the upstream: ${check.stdout}${check.stderr}`);
  const hyperfine = await run(
    'hyperfine',
    ['-N', '--warmup', '5', '--runs', '40', '--export-json', exportFile, ...commands],
    { env },
    300_000,
  );
  if (hyperfine.code !== 0) throw new Error(`hyperfine failed: ${hyperfine.stderr}`);
  const timings = JSON.parse(fs.readFileSync(exportFile, 'utf8')).results.map((r) => ({
    mean: r.mean * 1000,
    stddev: r.stddev * 1000,
    median: r.median * 1000,
  }));
  const requireFile = path.join(home, 'require-times.json');
  await run(
    process.execPath,
    ['-r', path.join(__dirname, 'require-times.js'), CLI, 'api', 'info', '--offline', '-e', endpoint],
    { env: { ...env, BENCH_REQUIRE_TIMES_FILE: requireFile } },
    30_000,
  );
  results.coldStart = {
    node: timings[0],
    offline: timings[1],
    online: timings[2],
    requires: fs.existsSync(requireFile) ? JSON.parse(fs.readFileSync(requireFile, 'utf8')) : [],
  };
  await stop(upstreamChild);
  fs.rmSync(home, { recursive: true, force: true });
}

// ---------- 4. login tail ----------

async function sectionLogin(results) {
  const stack = start(process.execPath, [path.join(__dirname, 'stack-server.js')]);
  const [, proxyUrl] = await waitForOutput(stack, 'stdout', /^proxy (http:\/\/\S+)$/m);
  const samples = [];
  try {
    for (let i = 0; i < 7; i++) {
      const home = tempDir('cookie-bridge-bench-login-');
      const handoffFile = path.join(home, 'handoff');
      const cli = start(process.execPath, [CLI, 'api', 'login', '-e', proxyUrl, '--timeout', '30'], {
        env: {
          ...process.env,
          COOKIE_BRIDGE_HOME: home,
          BROWSER: `${process.execPath} -r ${path.join(__dirname, 'handoff-timestamp.js')} ${SCRIPTED_BROWSER}`,
          BENCH_HANDOFF_FILE: handoffFile,
          SCRIPTED_BROWSER_EMAIL: 'bench@example.com',
        },
      });
      const exit = await withTimeout(cli.exitPromise, 60_000, 'api login');
      const exitedAt = performance.timeOrigin + performance.now();
      if (exit.code !== 0) throw new Error(`api login failed (${exit.code}): ${cli.output.stderr}`);
      const postedAt = Number(fs.readFileSync(handoffFile, 'utf8'));
      if (i > 0) samples.push(exitedAt - postedAt); // the first run warms the disk cache
      fs.rmSync(home, { recursive: true, force: true });
    }
  } finally {
    await stop(stack);
  }
  samples.sort((a, b) => a - b);
  results.login = {
    samples,
    median: samples[Math.floor(samples.length / 2)],
    max: samples[samples.length - 1],
  };
}

// ---------- report ----------

function report(results, errors) {
  const lines = [];
  const cpu = os.cpus()[0];
  lines.push(
    `Run on ${new Date().toISOString().slice(0, 10)}: ${os.cpus().length} CPUs (nproc ${spawnSync('nproc').stdout.toString().trim()}, ${cpu ? cpu.model.trim() : 'unknown CPU'}), Node ${process.version}, ${os.type()} ${os.release()}; load average at the start ${START_LOAD.map((x) => x.toFixed(1)).join(' ')}.`,
    '',
  );
  const t = results.throughput;
  if (t) {
    const { direct, nginx } = t.rows;
    const cb = t.rows['cookie-bridge proxy'];
    lines.push(`### 1. HTTP: wrk -t2 -c32 -d${WRK_SECONDS}s, 1 KiB JSON`, '');
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
  }
  const s = results.streaming;
  if (s) {
    lines.push('### 2. 1 GiB response (/api/bytes of the demo API)', '');
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
  }
  const c = results.coldStart;
  if (c) {
    lines.push('### 3. Cold start (hyperfine -N, 40 runs, 5 warm-up)', '');
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
  }
  const l = results.login;
  if (l) {
    lines.push('### 4. Login: bundle POSTed to the loopback listener → CLI exit', '');
    lines.push(
      `${l.samples.length} runs: median ${fixed(l.median)} ms, max ${fixed(l.max)} ms (target ≤ 100 ms: ${verdict(l.median <= 100)}); ` +
        `samples ${l.samples.map((x) => fixed(x, 0)).join(', ')} ms.`,
      '',
    );
  }
  for (const [section, error] of errors) lines.push(`Section ${section} failed: ${error}`, '');
  return lines.join('\n');
}

function writeReadme(text) {
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const current = fs.existsSync(README)
    ? fs.readFileSync(README, 'utf8')
    : `# Benchmarks\n\n${start}\n${end}\n`;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  if (from === -1 || to === -1) return;
  fs.writeFileSync(README, `${current.slice(0, from + start.length)}\n${text}\n${current.slice(to)}`);
}

async function main() {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build (npm run bench does)');
  const results = {};
  const errors = [];
  const sections = [
    ['1', 'throughput', sectionThroughput, (WRK_SECONDS + 2) * 3 * 1000 + 60_000],
    ['2', 'streaming', sectionStreaming, 600_000],
    ['3', 'cold start', sectionColdStart, 300_000],
    ['4', 'login', sectionLogin, 300_000],
  ];
  for (const [id, label, fn, budget] of sections) {
    if (!SECTIONS.has(id)) continue;
    process.stderr.write(`bench: ${id}. ${label}…\n`);
    try {
      await withTimeout(fn(results), budget, `section ${id}`);
    } catch (error) {
      errors.push([id, error instanceof Error ? error.message : String(error)]);
      process.stderr.write(
        `bench: section ${id} failed: ${error instanceof Error ? error.message : error}\n`,
      );
    }
  }
  if (
    results.throughput &&
    results.throughput.upstream &&
    results.throughput.upstream.child.exitCode === null
  ) {
    await stop(results.throughput.upstream.child);
  }
  const text = report(results, errors);
  process.stdout.write(`${text}\n`);
  if (process.env.BENCH_NO_README !== '1') writeReadme(text);
  killAll();
  process.exitCode = errors.length === 0 ? 0 : 1;
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack || error}\n`);
  killAll();
  process.exitCode = 1;
});
