'use strict';
/**
 * Preloaded (node -r) into the built CLI by the cold-start section: where one start's time and page faults
 * go, phase by phase, from the outside (the bundle is not changed). At exit it writes to
 * $BENCH_START_PHASES_FILE a JSON list of marks `{ mark, ms, faults }`: ms since Node started
 * (process.uptime) and the process's minor page faults so far (/proc/self/stat), at
 *
 *   preload               this file runs: Node's own bootstrap is done (the entry is next)
 *   bundle files read     the entry has read the core bundle's source and its V8 code cache (the last of
 *                         the two files closed: src/cli/code-cache.ts)
 *   deserialised          new vm.Script(source, { cachedData }) returned
 *   top level run         the bundle's module function returned (its top level ran)
 *   store read begins     the first JSON file opened under $COOKIE_BRIDGE_HOME (commander's parse and the
 *                         context are before it)
 *   store read ends       the last such file closed before the request (or before exit)
 *   node:http loaded      require('node:http') returned (it loads node:net, node:stream…)
 *   request sent          the first http.request() (or http.get()) returned
 *   response head         its 'response' event
 *   exit                  the process's 'exit' event (what follows, Node's teardown, is only in the wall
 *                         clock measured outside)
 *
 * A mark that did not happen (no request with --offline) is left out. The marks cost a few µs each (one read
 * of /proc/self/stat); the phases between them, not the totals, are what to compare.
 */
const fs = require('node:fs');
const Module = require('node:module');
const vm = require('node:vm');

const marks = [];

/** Minor page faults of this process so far (Linux); null elsewhere. */
function minorFaults() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7]);
  } catch {
    return null;
  }
}

function mark(name) {
  marks.push({ mark: name, ms: process.uptime() * 1000, faults: minorFaults() });
}

mark('preload');

const Script = vm.Script;
vm.Script = class MarkedScript extends Script {
  constructor(...args) {
    super(...args);
    mark('deserialised');
  }

  runInThisContext(...args) {
    const value = super.runInThisContext(...args);
    if (typeof value !== 'function') return value;
    // The wrapped bundle's value is its module function; running it runs the top level.
    return function markedModuleFunction(...moduleArgs) {
      const result = value.apply(this, moduleArgs);
      mark('top level run');
      return result;
    };
  }
};

const home = process.env.COOKIE_BRIDGE_HOME;
const storeFds = new Set();
const bundleFds = new Set();
let requestSent = false;
const openSync = fs.openSync;
fs.openSync = function markedOpenSync(file, ...rest) {
  const fd = openSync.call(this, file, ...rest);
  if (typeof file === 'string' && (file.endsWith('.v8cache') || file.endsWith('cli-core.js')))
    bundleFds.add(fd);
  if (home && typeof file === 'string' && file.startsWith(home) && file.endsWith('.json') && !requestSent) {
    if (!marks.some((m) => m.mark === 'store read begins')) mark('store read begins');
    storeFds.add(fd);
  }
  return fd;
};
const closeSync = fs.closeSync;
fs.closeSync = function markedCloseSync(fd) {
  closeSync.call(this, fd);
  if (bundleFds.delete(fd) && bundleFds.size === 0) mark('bundle files read');
  if (storeFds.delete(fd)) {
    const last = marks.findIndex((m) => m.mark === 'store read ends');
    if (last !== -1) marks.splice(last, 1);
    mark('store read ends');
  }
};

const load = Module._load;
Module._load = function markedLoad(request, ...rest) {
  const isHttp = request === 'node:http' || request === 'http';
  const first = isHttp && !marks.some((m) => m.mark === 'node:http loaded');
  const exported = load.call(this, request, ...rest);
  if (first) {
    mark('node:http loaded');
    // http.get calls the module's own request(), not this property: both are wrapped.
    for (const name of ['request', 'get']) {
      const send = exported[name];
      exported[name] = function markedSend(...args) {
        const clientRequest = send.apply(this, args);
        if (!requestSent) {
          requestSent = true;
          mark('request sent');
          clientRequest.once('response', () => mark('response head'));
        }
        return clientRequest;
      };
    }
  }
  return exported;
};

process.on('exit', () => {
  mark('exit');
  const file = process.env.BENCH_START_PHASES_FILE;
  if (file) fs.writeFileSync(file, JSON.stringify(marks));
});
