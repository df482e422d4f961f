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
 * of /proc/self/stat); the phases between them, not the totals, are what to compare. At `exit` the mark also
 * holds `youngKB`, the young generation in use (bench/young-at-exit.js, loaded then): the CLI allocates
 * ~0.8 MB there by its exit, and a collection on the way would leave about half, so the figure says whether
 * one ran.
 *
 * This file allocates little while the CLI runs (no node:module, whose public wrapper loads the source-map
 * modules; /proc/self/stat read into one buffer; no closure or rest array per call of the wrapped functions): V8 starts a
 * young-generation collection when its first 1 MB semi-space is ~80 % full, and this preload's own
 * ~47 KB still brings one into `api info`'s runs, which have none without it.
 */
const fs = require('node:fs');
const vm = require('node:vm');

// The CommonJS loader's Module class, what node:module exports (src/cli/compile-cache.ts nodeModuleApi).
const Module = module.constructor;
const marks = [];

const realOpenSync = fs.openSync;
const realCloseSync = fs.closeSync;
const statBuffer = Buffer.alloc(1024);

/** Minor page faults of this process so far (Linux: field 10 of /proc/self/stat); null elsewhere. */
function minorFaults() {
  try {
    const fd = realOpenSync('/proc/self/stat', 'r');
    let length;
    try {
      length = fs.readSync(fd, statBuffer, 0, statBuffer.length, 0);
    } finally {
      realCloseSync(fd);
    }
    // After the ')' that ends the command name: state ppid pgrp session tty_nr tpgid flags minflt.
    let at = statBuffer.lastIndexOf(0x29, length - 1) + 2;
    for (let field = 0; field < 7; field++) at = statBuffer.indexOf(0x20, at) + 1;
    let faults = 0;
    for (; at < length && statBuffer[at] >= 0x30 && statBuffer[at] <= 0x39; at++) {
      faults = faults * 10 + statBuffer[at] - 0x30;
    }
    return faults;
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
let storeReadBegun = false;
let httpLoaded = false;
let storeReadEnds;
fs.openSync = function markedOpenSync(file, flags, mode) {
  const fd = realOpenSync.call(this, file, flags, mode);
  if (typeof file === 'string' && (file.endsWith('.v8cache') || file.endsWith('cli-core.js')))
    bundleFds.add(fd);
  if (home && typeof file === 'string' && file.startsWith(home) && file.endsWith('.json') && !requestSent) {
    if (!storeReadBegun) mark('store read begins');
    storeReadBegun = true;
    storeFds.add(fd);
  }
  return fd;
};
fs.closeSync = function markedCloseSync(fd) {
  realCloseSync.call(this, fd);
  if (bundleFds.delete(fd) && bundleFds.size === 0) mark('bundle files read');
  if (storeFds.delete(fd)) {
    if (storeReadEnds !== undefined) marks.splice(marks.indexOf(storeReadEnds), 1);
    mark('store read ends');
    storeReadEnds = marks[marks.length - 1];
  }
};

const load = Module._load;
Module._load = function markedLoad(request, parent, isMain) {
  const first = !httpLoaded && (request === 'node:http' || request === 'http');
  const exported = load.call(this, request, parent, isMain);
  if (first) {
    httpLoaded = true;
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
  marks[marks.length - 1].youngKB = require('./young-at-exit').youngGenerationKB();
  const file = process.env.BENCH_START_PHASES_FILE;
  if (file) fs.writeFileSync(file, JSON.stringify(marks));
});
