import type { RelayEndReason } from './relay-store';

/** What the relay routes and the /token page tell a person whose relay sign-in is unknown or has ended. */
export const UNKNOWN_MESSAGE =
  'This sign-in request is unknown or has expired: start the login again from the terminal.';

export const ENDED_MESSAGES: Record<RelayEndReason, string> = {
  'wrong-codes':
    'Too many wrong codes were typed, so this sign-in request was cancelled: start the login again from the terminal.',
  claimed: 'This sign-in was already picked up by the terminal that requested it.',
};
