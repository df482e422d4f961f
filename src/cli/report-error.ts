import { isCookieBridgeError, ExitCode } from '../errors';

/**
 * The one place an error becomes output: a message and a hint on stderr (or a JSON object on stdout
 * with --json), and the exit code. Unknown errors are bugs: say so, show the stack only with --debug.
 */
export function reportError(
  error: unknown,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; json: boolean; debug: boolean },
): number {
  if (isCookieBridgeError(error)) {
    if (io.json) io.stdout.write(`${JSON.stringify({ ok: false, error: error.toJSON() }, null, 2)}\n`);
    io.stderr.write(`cookie-bridge: error: ${error.message}\n`);
    if (error.hint !== undefined) io.stderr.write(`hint: ${error.hint}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (io.json) {
    io.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'E_INTERNAL', message } }, null, 2)}\n`);
  }
  io.stderr.write(`cookie-bridge: unexpected error: ${message}\n`);
  if (io.debug && error instanceof Error && error.stack !== undefined) io.stderr.write(`${error.stack}\n`);
  else io.stderr.write('hint: run again with --debug for details, and report it if it persists\n');
  return ExitCode.Failure;
}
