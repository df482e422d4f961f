'use strict';
/**
 * The floor for `cookie-bridge api info --offline` (section 3): the least a Node program does for the same
 * answer — find the endpoint's folder in $COOKIE_BRIDGE_HOME, read and parse its profile.json and
 * cookies.json (floor-login.js), print a few lines. No argument parsing, no checks of owners or modes, no
 * hashing, no error handling beyond exiting 1: what is left between this and `api info --offline` is the
 * CLI's own cost.
 * Usage: node floor-offline.js <endpoint-folder-prefix>   (e.g. http_127.0.0.1_8080)
 */
const { readStoredLogin } = require('./floor-login');

const { profile, cookies } = readStoredLogin(process.argv[2]);
const names = cookies.map((cookie) => cookie.key);
process.stdout.write(
  `endpoint  ${profile.endpoint}\nidentity  ${profile.identity}\ncookies   ${names.length} (${names.join(', ')})\n`,
);
