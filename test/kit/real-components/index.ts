// Real auth components on loopback for the e2e suite: an OpenID provider, Apache + mod_auth_openidc,
// nginx + auth_request, each a child process with its own temp folder, plus the chromium driver's path.
import { REAL_COMPONENT_PATHS, requireComponent } from './require-component';

export type { RunningComponent } from './running-component';
export type { OidcClientMetadata, RunningOidcProvider, StartOidcProviderOptions } from './oidc-provider';
export type { StartApacheOidcProxyOptions } from './apache-oidc-proxy';
export type { StartNginxAuthRequestOptions } from './nginx-auth-request';
export { startOidcProvider, OIDC_PROVIDER_FIXTURE } from './oidc-provider';
export {
  startApacheOidcProxy,
  apacheOidcRedirectUri,
  renderApacheConfig,
  APACHE_OIDC_REDIRECT_PATH,
} from './apache-oidc-proxy';
export { startNginxAuthRequest, renderNginxConfig } from './nginx-auth-request';
export { requireComponent, REAL_COMPONENT_PATHS } from './require-component';
export type { ServeSidecar } from './serve-sidecar';
export { startServeSidecar } from './serve-sidecar';
export { findFreePort, probeHttp, tail } from './readiness';
export type { ChromiumBrowserEnv, ChromiumBrowserResult } from './run-chromium-browser';
export {
  runChromiumBrowser,
  CHROMIUM_BROWSER_SCRIPT,
  CHROMIUM_BROWSER_COMMAND,
} from './run-chromium-browser';

/** True when every Debian package the real-component e2e tests need is installed (see requireComponent). */
export function realComponentsAvailable(): boolean {
  // Check all of them (no short-circuit) so one run names everything that is missing.
  return Object.entries(REAL_COMPONENT_PATHS)
    .map(([name, path]) => requireComponent(name, path))
    .every(Boolean);
}
export { launchChromium } from './launch-chromium';
export type { LaunchedChromium } from './launch-chromium';
export { startServeBehindNginx, signInAtLookalike } from './serve-behind-nginx';
export type { ServeBehindNginx } from './serve-behind-nginx';
export { REAL_SETUP_TIMEOUT_MS, REAL_BROWSER_TEST_TIMEOUT_MS, REAL_CLI_LOGIN_TIMEOUT_S } from './budgets';
