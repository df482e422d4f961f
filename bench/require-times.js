'use strict';
/**
 * Preloaded (node -r) into the CLI by the cold-start benchmark: times every require() and, at exit, writes
 * the slowest ones (inclusive ms, nested by depth) to $BENCH_REQUIRE_TIMES_FILE as JSON.
 */
const fs = require('node:fs');
const Module = require('node:module');

const original = Module.prototype.require;
const stack = [];
const records = [];
let order = 0;

Module.prototype.require = function timedRequire(id) {
  const start = process.hrtime.bigint();
  const index = order++;
  const depth = stack.length;
  stack.push(0);
  try {
    return original.apply(this, arguments);
  } finally {
    stack.pop();
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    records.push({ index, depth, id, ms });
  }
};

process.on('exit', () => {
  const file = process.env.BENCH_REQUIRE_TIMES_FILE;
  if (!file) return;
  const slow = records
    .filter((record) => record.depth <= 3 && record.ms >= 1)
    .sort((a, b) => a.index - b.index)
    .map(({ depth, id, ms }) => ({ depth, id, ms: Math.round(ms * 10) / 10 }));
  fs.writeFileSync(file, JSON.stringify(slow));
});
