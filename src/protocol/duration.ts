/**
 * Durations as people type them on a command line: `30d`, `12h`, `90m`, `3600s` (one whole number and one
 * unit; no sign, no fraction, no mix). serve's lifetimes and `api service-account create --expires` read them.
 */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds, or undefined for anything that is not `<digits><s|m|h|d>` or is 0 or too large to be a date. */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]{1,9})([smhd])$/.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}
