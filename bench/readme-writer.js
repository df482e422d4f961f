'use strict';
/** Puts the report into bench/README.md between the results markers, leaving the rest of the file alone. */
const fs = require('node:fs');

const START = '<!-- results:start -->';
const END = '<!-- results:end -->';

function writeReadme(readmePath, text) {
  const current = fs.existsSync(readmePath)
    ? fs.readFileSync(readmePath, 'utf8')
    : `# Benchmarks\n\n${START}\n${END}\n`;
  const from = current.indexOf(START);
  const to = current.indexOf(END);
  if (from === -1 || to === -1) return;
  fs.writeFileSync(readmePath, `${current.slice(0, from + START.length)}\n${text}\n${current.slice(to)}`);
}

module.exports = { writeReadme };
