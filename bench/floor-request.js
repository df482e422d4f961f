'use strict';
/**
 * The floor for `cookie-bridge request` (section 2): the least a Node client can do for the same job, an
 * undici request with the Cookie ($BENCH_COOKIE) whose body is piped to stdout (backpressure included).
 * Start-up counts, as it does for `request`. Usage: node floor-request.js <url> > /dev/null; exit 1 on a
 * status other than 200.
 */
const { pipeline } = require('node:stream/promises');

const { request } = require('undici');

async function main() {
  const { statusCode, body } = await request(process.argv[2], {
    headers: { cookie: process.env.BENCH_COOKIE || '' },
  });
  if (statusCode !== 200) {
    process.stderr.write(`floor-request: status ${statusCode}\n`);
    body.resume();
    process.exitCode = 1;
    return;
  }
  await pipeline(body, process.stdout);
}

main().catch((error) => {
  process.stderr.write(`floor-request: ${error.message}\n`);
  process.exitCode = 1;
});
