import type { CookieBundle } from '../protocol/bundle-codec';
import type { Logger } from '../context';
import type { Progress } from './progress';

/**
 * What happens to a bundle WITHOUT state (SkyPilot's older /token pages post one to the loopback listener):
 * nothing proves it comes from the login this terminal started, and any local process can post one with a
 * forged `Origin`. The listener refuses it (unless --accept-stateless) and hands it here:
 *   - stdin is a terminal: the person is shown what arrived (cookie names, the claimed user, the Origin) and
 *     asked once; the answer is the next line typed, read by the paste reader, so the two never fight over
 *     stdin. `y` takes the bundle; `n` refuses it.
 *   - otherwise (CI, pipes), or once the question was asked: refused, with one warning per origin that says
 *     how to take it (--accept-stateless). A refused bundle never ends the wait.
 */

export interface StatelessArrival {
  bundle: CookieBundle;
  /** The Origin the post carried (the listener only hands over the endpoint's). */
  origin: string;
}

export interface StatelessBundleGate {
  /** For the listener: a bundle without state it refused. */
  offer(arrival: StatelessArrival): void;
  /** Settles with a bundle the person confirmed; never settles otherwise. */
  confirmed: Promise<CookieBundle>;
  /** A line the paste reader read: true when it answered the open question (and is not a paste). */
  answer(line: string): boolean;
  /** A question waits for its answer: the status line must not be redrawn over it. */
  readonly asking: boolean;
}

export interface StatelessBundleGateOptions {
  /** May the person be asked (stdin is a terminal)? */
  interactive: boolean;
  logger: Logger;
  progress: Progress;
  /** The status line to show again once the question is answered. */
  waitingText: string;
}

const YES = /^(?:y|yes)$/i;
const NO = /^(?:n|no)$/i;

export function createStatelessBundleGate(options: StatelessBundleGateOptions): StatelessBundleGate {
  const { interactive, logger, progress, waitingText } = options;
  const warnedOrigins = new Set<string>();
  let question: StatelessArrival | undefined;
  let asked = false;
  let resolveConfirmed: (bundle: CookieBundle) => void = () => undefined;
  const confirmed = new Promise<CookieBundle>((resolve) => {
    resolveConfirmed = resolve;
  });

  const warnOnce = (origin: string): void => {
    if (warnedOrigins.has(origin)) return;
    warnedOrigins.add(origin);
    logger.warn(
      `a bundle without state arrived from ${printable(origin)}; if this server's /token page is an older ` +
        'one, run again with --accept-stateless (or paste the bundle from the page here)',
    );
  };

  return {
    offer(arrival) {
      if (question !== undefined) return; // one question at a time; the open one is still on screen
      if (!interactive || asked) {
        warnOnce(arrival.origin);
        return;
      }
      asked = true;
      question = arrival;
      progress.stop();
      const { bundle } = arrival;
      logger.info(
        [
          '',
          `A bundle WITHOUT state arrived from ${printable(arrival.origin)}.`,
          'An older /token page sends these, but any program on this machine could forge one:',
          'take it only if you have just signed in on that page and these are your cookies.',
          `  cookies:      ${bundle.cookies.map((cookie) => printable(cookie.name)).join(', ')}`,
          `  claims to be: ${bundle.user === undefined ? '(nobody named)' : printable(bundle.user)}`,
          'Take it? Type y and press Enter to take it, n to refuse it (typing is not shown):',
        ].join('\n'),
      );
    },
    confirmed,
    answer(line) {
      if (question === undefined) return false;
      const trimmed = line.trim();
      if (!YES.test(trimmed) && !NO.test(trimmed)) return false; // a paste, not an answer
      const { bundle, origin } = question;
      question = undefined;
      if (YES.test(trimmed)) {
        logger.info('Taking the bundle without state.');
        resolveConfirmed(bundle);
      } else {
        logger.info(
          "Refused; still waiting for the sign-in. If this server's /token page is an older one, paste the " +
            'bundle from the page here, or run again with --accept-stateless.',
        );
        warnedOrigins.add(origin); // the person just saw it: no warning on top
        progress.start(waitingText);
      }
      return true;
    },
    get asking() {
      return question !== undefined;
    },
  };
}

/** One short line of plain text (names and origins come from an unauthenticated local post). */
function printable(text: string): string {
  const flat = text.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}
