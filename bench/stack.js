'use strict';
/**
 * The stack the benchmarks measure, all on loopback: the small upstream (bench/upstream-server.js), nginx
 * injecting the Cookie in front of it, a stored login, and `cookie-bridge proxy` replaying it.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const { CLI, DIST_INDEX, REAL_COMPONENTS, childEnv } = require('./settings');
const { start, waitForOutput } = require('./processes');

const { configSafe, renderTemplate } = require(path.join(REAL_COMPONENTS, 'config-template.js'));
const { makeComponentDir, removeComponentDir } = require(path.join(REAL_COMPONENTS, 'component-dir.js'));
const { findFreePort, waitForHttp } = require(path.join(REAL_COMPONENTS, 'readiness.js'));
const { REAL_COMPONENT_PATHS } = require(path.join(REAL_COMPONENTS, 'require-component.js'));

const NGINX_TEMPLATE = path.join(__dirname, 'nginx-cookie-inject.conf');

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh `session=<random>` cookie. */
function randomCookie() {
  return `session=${crypto.randomBytes(24).toString('base64url')}`;
}

/** One GET without keep-alive; resolves the status code. */
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

/** Retries `get` until something answers (any status) or timeoutMs passes. */
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

/** Stores a cookie login for `endpoint` in the credential home `home`, as `api login` would. */
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

/** The upstream that answers 200 only to `cookie`, and a home holding a login with that cookie. */
async function startUpstreamWithLogin(cookie) {
  const handle = start(process.execPath, [path.join(__dirname, 'upstream-server.js')], {
    env: childEnv({ BENCH_COOKIE: cookie }),
  });
  const [, port] = await waitForOutput(handle, /listening (\d+)/);
  const url = `http://127.0.0.1:${port}`;
  const home = tempDir('cookie-bridge-bench-home-');
  const [name, value] = cookie.split('=');
  await cookieLogin(home, url, [{ name, value }]);
  return { handle, url, port: Number(port), home, cookie };
}

/** `cookie-bridge proxy -e <endpoint>` with the login stored in `home`; resolves once it prints its URL. */
async function startCookieBridgeProxy(home, endpoint, extraArgs = [], nodeArgs = []) {
  const handle = start(process.execPath, [...nodeArgs, CLI, 'proxy', '-e', endpoint, ...extraArgs], {
    env: childEnv({ COOKIE_BRIDGE_HOME: home }),
  });
  const [, url] = await waitForOutput(handle, /^(http:\/\/127\.0\.0\.1:\d+)$/m);
  return { handle, url };
}

/** `cookie-bridge serve --upstream <upstream> --port 0` (a temp home); resolves once it logs its URL. */
async function startCookieBridgeServe(upstream) {
  const home = tempDir('cookie-bridge-bench-serve-');
  const handle = start(process.execPath, [CLI, 'serve', '--upstream', upstream, '--port', '0'], {
    env: childEnv({ COOKIE_BRIDGE_HOME: home }),
  });
  const stop = async () => {
    await handle.stop();
    fs.rmSync(home, { recursive: true, force: true });
  };
  try {
    const [, url] = await waitForOutput(
      handle,
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      undefined,
      'stderr',
    );
    return { handle, url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The floor proxy (bench/floor-proxy.js) adding `cookie` in front of `upstream`, with `client` 'node-http'
 * or 'undici'; resolves once it listens.
 */
async function startFloorProxy(upstream, cookie, client = 'node-http') {
  const handle = start(process.execPath, [path.join(__dirname, 'floor-proxy.js'), upstream, client], {
    env: childEnv({ BENCH_COOKIE: cookie }),
  });
  const [, port] = await waitForOutput(handle, /listening (\d+)/);
  return { handle, url: `http://127.0.0.1:${port}` };
}

/** The rendered bench/nginx-cookie-inject.conf: nginx adding `Cookie: <cookie>` to every upstream request. */
function renderCookieInjectingNginxConfig(prefix, port, upstreamPort, cookie) {
  return renderTemplate(fs.readFileSync(NGINX_TEMPLATE, 'utf8'), {
    PREFIX: configSafe(prefix, 'prefix'),
    PORT: String(port),
    UPSTREAM_PORT: String(upstreamPort),
    COOKIE: configSafe(cookie, 'cookie'),
  });
}

/** nginx injecting `cookie` in front of 127.0.0.1:<upstreamPort>, in its own temp folder; `stop()` removes it. */
async function startCookieInjectingNginx(upstreamPort, cookie) {
  const dir = makeComponentDir('bench-nginx');
  const port = await findFreePort();
  const configFile = path.join(dir, 'nginx.conf');
  fs.writeFileSync(configFile, renderCookieInjectingNginxConfig(dir, port, upstreamPort, cookie));
  const handle = start(REAL_COMPONENT_PATHS.nginx, [
    '-p',
    dir,
    '-e',
    path.join(dir, 'error.log'),
    '-c',
    configFile,
    '-g',
    'daemon off;',
  ]);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await handle.stop();
    removeComponentDir(dir);
  };
  try {
    await waitForHttp('nginx', `${url}/`, { child: handle, logs: () => handle.output() });
  } catch (error) {
    await stop();
    throw error;
  }
  return { handle, url, stop };
}

module.exports = {
  tempDir,
  randomCookie,
  waitUntilUp,
  cookieLogin,
  startUpstreamWithLogin,
  startCookieBridgeProxy,
  startCookieBridgeServe,
  startFloorProxy,
  startCookieInjectingNginx,
  renderCookieInjectingNginxConfig,
};
