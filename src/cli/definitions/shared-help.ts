/** Help texts several command definitions share. */

export const ENDPOINT_HELP = 'endpoint (default: $COOKIE_BRIDGE_ENDPOINT, else the last login)';

/** The end of the help of every admin command (`api service-account …`, `api users …`). */
export const ADMIN_NOTE = `
The calls go to the endpoint's /cookie-bridge/admin/ API (cookie-bridge serve --service-accounts) with the
stored sign-in ($COOKIE_BRIDGE_TOKEN first), as \`request\` sends it: admins only (serve --admin, or a role set
with api users set-role; an admin service account's token works too). A refusal names who you are and who may
(exit 10); an expired session exits 4 as for every command.`;
