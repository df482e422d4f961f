'use strict';
/** What /proc says about a measured process: CPU time used and peak resident memory. */
const fs = require('node:fs');
const path = require('node:path');

const { REAL_COMPONENTS } = require('./settings');

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (the launchers' own reading). */
const { cpuSeconds } = require(path.join(REAL_COMPONENTS, 'process-state.js'));

/** Peak resident set size (VmHWM) in KiB, from /proc/<pid>/status. */
function vmHwmKb(pid) {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size now (VmRSS) in KiB, from /proc/<pid>/status. */
function vmRssKb(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors (sockets included) of a process, from /proc/<pid>/fd. */
function openFds(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** The soft limit on open files of a process, from /proc/<pid>/limits. */
function maxOpenFiles(pid) {
  try {
    const match = /^Max open files\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return match ? match[1] : undefined;
  } catch {
    return undefined;
  }
}

module.exports = { cpuSeconds, vmHwmKb, vmRssKb, openFds, maxOpenFiles };
