/**
 * Durations as people type them on a command line: `30d`, `12h`, `90m`, `3600s` (one number, one unit).
 * Pure; serve's --sa-max-lifetime and --sa-key-lifetime and the CLI's --expires read them here.
 */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^([1-9][0-9]{0,8})([smhd])$/;

/** The duration in ms, or undefined for anything else (no unit, zero, a sign, a fraction, spaces, >9 digits). */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (match === null) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** `30d`, `12h`, `90m` or `45s`: the largest unit that divides the duration exactly (for messages and --help). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (ms >= UNIT_MS[unit] && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
