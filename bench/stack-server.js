'use strict';
/**
 * The demo API behind the oauth2-proxy look-alike, from the built fixtures (dist/fixtures), for the
 * streaming and login benchmarks. Loopback only. Prints "api <url>" and "proxy <url>" on stdout.
 */
const path = require('node:path');

const dist = path.join(__dirname, '..', 'dist', 'fixtures');
const { startDemoApi } = require(path.join(dist, 'demo-api.js'));
const { startOAuth2ProxyLookalike } = require(path.join(dist, 'oauth2-proxy-lookalike.js'));

async function main() {
  const api = await startDemoApi();
  const proxy = await startOAuth2ProxyLookalike({ upstream: api.url });
  process.stdout.write(`api ${api.url}\nproxy ${proxy.url}\n`);
  process.on('SIGTERM', () => {
    Promise.all([proxy.close(), api.close()]).then(() => process.exit(0));
  });
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
