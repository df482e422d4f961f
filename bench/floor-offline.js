'use strict';
/**
 * The floor for `cookie-bridge api info --offline` (section 3): the least a Node program does for the same
 * answer — find the endpoint's folder in $COOKIE_BRIDGE_HOME, read and parse its profile.json and
 * cookies.json, print a few lines. No argument parsing, no checks of owners or modes, no hashing, no
 * error handling beyond exiting 1: what is left between this and `api info --offline` is the CLI's own cost.
 * Usage: node floor-offline.js <endpoint-folder-prefix>   (e.g. http_127.0.0.1_8080)
 */
const fs = require('node:fs');
const path = require('node:path');

const endpoints = path.join(process.env.COOKIE_BRIDGE_HOME || '', 'endpoints');
const folder = fs.readdirSync(endpoints).find((name) => name.startsWith(`${process.argv[2]}-`));
if (folder === undefined) {
  process.stderr.write(`floor-offline: no folder for ${process.argv[2]} in ${endpoints}\n`);
  process.exit(1);
}
const read = (name) => JSON.parse(fs.readFileSync(path.join(endpoints, folder, name), 'utf8'));
const profile = read('profile.json');
const jar = read('cookies.json');
const names = (jar.cookies || []).map((cookie) => cookie.key);
process.stdout.write(
  `endpoint  ${profile.endpoint}\nidentity  ${profile.identity}\ncookies   ${names.length} (${names.join(', ')})\n`,
);
