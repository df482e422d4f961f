'use strict';
/**
 * The floor of `cookie-bridge request URL > /dev/null` (bench section 2): the least a Node program can do
 * for the same download, in the same run. `node bench/floor-request.js URL COOKIE [undici|http]` GETs URL
 * with `Cookie: COOKIE` and writes the body to stdout: `undici` (default) pipes undici.request's body,
 * `http` pipes node:http's response. No checks, no jar, no CLI: what is left is Node's start-up, the HTTP
 * client and the copy to stdout. Run it under `node -r bench/peak-rss.js` for its peak RSS.
 */
const { pipeline } = require('node:stream');

const [url, cookie = '', client = 'undici'] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: node bench/floor-request.js URL [COOKIE] [undici|http]\n');
  process.exit(2);
}
const headers = cookie ? { cookie } : {};

function done(error) {
  if (error) {
    process.stderr.write(`floor-request: ${error.message}\n`);
    process.exitCode = 1;
  }
}

if (client === 'http') {
  require('node:http')
    .get(url, { headers }, (response) => pipeline(response, process.stdout, done))
    .on('error', done);
} else {
  require('undici')
    .request(url, { headers })
    .then((response) => pipeline(response.body, process.stdout, done), done);
}
