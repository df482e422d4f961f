'use strict';
/**
 * The floors for `cookie-bridge api info` with its server check (section 3): the least a Node program does for
 * the same network work, one GET of <endpoint>/api/health with the Cookie ($BENCH_COOKIE), the body read, then
 * exit. `undici` (the default): the client the CLI uses, V8 told what the CLI tells it for short commands
 * (`--liftoff-only`, so the process does not wait for the optimising compile of undici's WebAssembly parser).
 * `node-http`: node:http, whose parser is built into Node, for comparison. No argument parsing, no store, no
 * session check: what is left between the undici floor and `api info` is cookie-bridge's own cost.
 * With an endpoint folder prefix after the client (e.g. http_127.0.0.1_8080), the Cookie comes from the stored
 * login instead (floor-login.js: find the folder, read and parse profile.json and cookies.json): the floor
 * for `api info` as a whole, reading the login and making the GET, with none of the CLI's checks.
 * Usage: node floor-info.js <url> [undici|node-http] [endpoint-folder-prefix]; exit 1 when the request fails.
 */
const url = process.argv[2];
const storedCookie = () =>
  require('./floor-login')
    .readStoredLogin(process.argv[4])
    .cookies.map((cookie) => `${cookie.key}=${cookie.value}`)
    .join('; ');
const headers = {
  cookie: process.argv[4] === undefined ? process.env.BENCH_COOKIE || '' : storedCookie(),
  accept: 'application/json',
};

function fail(error) {
  process.stderr.write(`floor-info: ${error.message}\n`);
  process.exitCode = 1;
}

if (process.argv[3] === 'node-http') {
  require('node:http')
    .get(url, { headers }, (res) => {
      if (res.statusCode >= 300) fail(new Error(`HTTP ${res.statusCode}`));
      res.resume();
    })
    .on('error', fail);
} else {
  require('node:v8').setFlagsFromString('--liftoff-only');
  require('undici')
    .request(url, { headers })
    .then(({ statusCode, body }) => {
      if (statusCode >= 300) fail(new Error(`HTTP ${statusCode}`));
      return body.text();
    })
    .catch(fail);
}
