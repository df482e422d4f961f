/**
 * Identifies the content of the core bundle (dist/cli/cli-core.js): scripts/build-cli.mjs replaces this module
 * in the entry bundle with a hash of the bundle it just built, so the code cache (code-cache.ts) is keyed by
 * the build without hashing anything at start-up. Undefined outside the bundle (tsc's dist/src): no cache.
 */
export const CLI_CORE_ID: string | undefined = undefined;
