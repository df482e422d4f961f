// The real components (fixtures/real-components/, shared with the demo and the benchmarks) plus the test-only
// helpers that drive Chromium or run `cookie-bridge serve` as a CLI child.
export * from '../../fixtures/real-components';
export type { ChromiumBrowserEnv, ChromiumBrowserResult } from './run-chromium-browser';
export {
  runChromiumBrowser,
  CHROMIUM_BROWSER_SCRIPT,
  CHROMIUM_BROWSER_COMMAND,
} from './run-chromium-browser';
export { launchChromium } from './launch-chromium';
export type { LaunchedChromium } from './launch-chromium';
export type { ServeSidecar } from './serve-sidecar';
export { startServeSidecar } from './serve-sidecar';
export { startServeBehindNginx, signInAtLookalike } from './serve-behind-nginx';
export type { ServeBehindNginx } from './serve-behind-nginx';
