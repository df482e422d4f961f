import { formatDurationWords } from '../protocol/duration';
import type { RelayEndReason } from './relay-store';

/**
 * What the relay routes and the /token page tell a person about a relay sign-in. The texts that depend on how long
 * the store keeps an entry (`serve --relay-ttl`) take that lifetime and state it in words.
 */

/** A relay sign-in that is unknown or has expired. */
export function unknownRelayMessage(ttlMs: number): string {
  return (
    `This sign-in request is unknown or has expired (a request expires ${formatDurationWords(ttlMs)} after the ` +
    'terminal made it): start the login again from the terminal.'
  );
}

export const ENDED_MESSAGES: Record<RelayEndReason, string> = {
  'wrong-codes':
    'Too many wrong codes were typed, so this sign-in request was cancelled: start the login again from the terminal.',
  claimed: 'This sign-in was already picked up by the terminal that requested it.',
};

/** The /token page's relay box: how long the request it asks to confirm stays open. */
export function relayRequestLifetimeText(ttlMs: number): string {
  return `The request stays open for ${formatDurationWords(ttlMs)} after the terminal made it.`;
}

/** 503 relay_full: the store holds as many entries as it may. */
export function relayFullMessage(ttlMs: number): string {
  return `too many relay sign-ins are waiting on this server (each expires within ${formatDurationWords(ttlMs)}): try again later`;
}

/** 503 relay_source_full: this source address has too many pending registrations. */
export function relaySourceFullMessage(ttlMs: number): string {
  return `too many relay sign-ins are waiting from your address: finish or let them expire (${formatDurationWords(ttlMs)}), then try again`;
}

/** 429 page at confirm: this identity has too many confirmed sign-ins that no terminal claimed. */
export function identityFullMessage(ttlMs: number): string {
  return (
    'You have too many confirmed sign-ins that no terminal has picked up yet (each expires ' +
    `${formatDurationWords(ttlMs)} after it was confirmed): wait, then start the login again.`
  );
}
