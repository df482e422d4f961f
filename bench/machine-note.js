'use strict';
/** The first line of the results: the machine, Node, the OS and the load average when the run started. */
const { spawnSync } = require('node:child_process');
const os = require('node:os');

/** `startLoad` is os.loadavg() taken before the first section started. */
function machineNote(startLoad, date = new Date()) {
  const cpu = os.cpus()[0];
  const nproc = spawnSync('nproc').stdout.toString().trim();
  return (
    `Run on ${date.toISOString().slice(0, 10)}: ${os.cpus().length} CPUs (nproc ${nproc}, ${cpu ? cpu.model.trim() : 'unknown CPU'}), ` +
    `Node ${process.version}, ${os.type()} ${os.release()}; load average at the start ${startLoad.map((x) => x.toFixed(1)).join(' ')}.`
  );
}

module.exports = { machineNote };
