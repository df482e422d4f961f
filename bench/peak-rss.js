'use strict';
/**
 * Preloaded (node -r) into a cookie-bridge process by the benchmark: at exit, writes the process' peak
 * resident set size (VmHWM from /proc/self/status, in kB) to $BENCH_PEAK_RSS_FILE.
 */
const fs = require('node:fs');

process.on('exit', () => {
  const file = process.env.BENCH_PEAK_RSS_FILE;
  if (!file) return;
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s+(\d+) kB/m.exec(status);
    fs.writeFileSync(file, match ? match[1] : '');
  } catch {
    // best effort: the benchmark reports a missing value
  }
});
