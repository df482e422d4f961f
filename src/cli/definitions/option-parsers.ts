import { UsageError } from '../../errors';

/* Parsers of option values: a bad value is a UsageError (exit 2) before any command runs. */

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--port must be a whole number from 1 to 65535, not ${JSON.stringify(value)}`);
  }
  return port;
}

export function parseWorkers(value: string): number {
  const workers = Number(value);
  if (!/^[0-9]+$/.test(value) || workers < 1 || workers > 64) {
    throw new UsageError(`--workers must be a whole number from 1 to 64, not ${JSON.stringify(value)}`);
  }
  return workers;
}

export function parseListenPort(value: string): number {
  const port = Number(value);
  if (!/^[0-9]+$/.test(value) || port > 65535) {
    throw new UsageError(`--port must be a whole number from 0 to 65535, not ${JSON.stringify(value)}`);
  }
  return port;
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`expected a positive number of seconds, not ${JSON.stringify(value)}`);
  return n;
}

/** A repeatable option (-H): every value, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
