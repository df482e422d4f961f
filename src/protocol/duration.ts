/**
 * Durations as operators and admins type them (`serve --sa-max-lifetime 365d`, `api service-account create
 * --expires 30d`): a whole number and one unit, `d` (days), `h` (hours), `m` (minutes) or `s` (seconds).
 * Nothing else is accepted: no fractions, no combinations (`1d12h`), no bare numbers, no zero.
 */

const DURATION = /^([1-9][0-9]{0,9})([dhms])$/;

const UNIT_MS: Readonly<Record<string, number>> = {
  d: 86_400_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
};

/** `30d` → 2_592_000_000; undefined for anything that is not one positive whole number and a unit. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** What parseDurationMs accepts, for error messages. */
export const DURATION_FORMAT = 'a whole number and a unit: 30d, 12h, 90m or 3600s';

const UNIT_WORDS: ReadonlyArray<readonly [number, string]> = [
  [86_400_000, 'day'],
  [3_600_000, 'hour'],
  [60_000, 'minute'],
  [1_000, 'second'],
];

/**
 * A duration in words for people, in the largest unit that states it exactly: `5 minutes`, `90 seconds`,
 * `2 hours`, `1 day`, `36 hours`; below whole seconds, `1500 milliseconds`. What pages and messages say about a
 * configured lifetime (`serve --relay-ttl`), so the text never rounds it to something else.
 */
export function formatDurationWords(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  for (const [unitMs, unit] of UNIT_WORDS) {
    if (whole >= unitMs && whole % unitMs === 0) {
      const count = whole / unitMs;
      return `${count} ${unit}${count === 1 ? '' : 's'}`;
    }
  }
  return `${whole} millisecond${whole === 1 ? '' : 's'}`;
}
