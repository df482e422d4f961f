'use strict';
/**
 * Preloaded (node -r) into a start by the cold-start section: at exit, writes to $BENCH_YOUNG_FILE how many
 * KB of V8's young generation are in use. It loads nothing before then (node:v8 only in the exit handler),
 * so the start allocates as it does alone, plus what a preload with an exit listener costs (~25 KB). A start
 * that ran no young-generation collection has everything it allocated still there (~0.8 MB for `api info`);
 * a collection leaves about half (what survived it and what came after). V8 starts one when the first 1 MB
 * semi-space is ~80 % full. bench/start-phases.js reads the same figure at its `exit` mark.
 */

/** KB of the young generation in use now (loads node:v8: call it at exit). */
function youngGenerationKB() {
  const young = require('node:v8')
    .getHeapSpaceStatistics()
    .find((space) => space.space_name === 'new_space');
  return Math.round((young?.space_used_size ?? 0) / 1024);
}

const file = process.env.BENCH_YOUNG_FILE;
if (file) process.on('exit', () => require('node:fs').writeFileSync(file, String(youngGenerationKB())));

module.exports = { youngGenerationKB };
