'use strict';
/**
 * What the floors of section 3 read of a stored login, with no checks (owners, modes, links), no hashing and
 * no error handling beyond exiting 1: the endpoint's folder in $COOKIE_BRIDGE_HOME (found by its readable
 * prefix, e.g. http_127.0.0.1_8080), its profile.json and cookies.json parsed.
 */
const fs = require('node:fs');
const path = require('node:path');

function readStoredLogin(folderPrefix) {
  const endpoints = path.join(process.env.COOKIE_BRIDGE_HOME || '', 'endpoints');
  const folder = fs.readdirSync(endpoints).find((name) => name.startsWith(`${folderPrefix}-`));
  if (folder === undefined) {
    process.stderr.write(`bench floor: no folder for ${folderPrefix} in ${endpoints}\n`);
    process.exit(1);
  }
  const read = (name) => JSON.parse(fs.readFileSync(path.join(endpoints, folder, name), 'utf8'));
  const jar = read('cookies.json');
  return { profile: read('profile.json'), cookies: jar.cookies || [] };
}

module.exports = { readStoredLogin };
