import type { TextOutput } from '../context';
import { ERROR_CODES, ExitCode, isCookieBridgeError } from '../errors';

export interface ReportIo {
  stdout: TextOutput;
  stderr: TextOutput;
  json: boolean;
  debug: boolean;
}

/**
 * The one top-level handler: the one place an error becomes output: a message and a hint on stderr (or a
 * JSON object on stdout with --json), and the exit code. Unknown errors are bugs (E_INTERNAL): say so, show
 * the stack only with --debug.
 */
export function reportError(error: unknown, io: ReportIo): number {
  if (isCookieBridgeError(error)) {
    if (io.json) io.stdout.write(`${JSON.stringify({ ok: false, error: error.toJSON() }, null, 2)}\n`);
    io.stderr.write(`cookie-bridge: error: ${error.message}\n`);
    if (error.hint !== undefined) io.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  const internal = ERROR_CODES.E_INTERNAL;
  if (io.json) {
    io.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'E_INTERNAL', message } }, null, 2)}\n`);
  }
  io.stderr.write(`cookie-bridge: unexpected error: ${message}\n`);
  if (io.debug && error instanceof Error && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
  else io.stderr.write(`hint: ${internal.hint}\n`);
  return internal.exitCode satisfies typeof ExitCode.Failure;
}
