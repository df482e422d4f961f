// Runs before every test file of every jest project (jest.config.js, setupFilesAfterEnv).
// - The default test timeout comes from the one budgets module, so COOKIE_BRIDGE_TIME_SCALE stretches it too.
// - In the `unit` project (globals.COOKIE_BRIDGE_PURE_UNIT) the purity guard is on: a unit test that opens a
//   socket, starts a process or makes a temp folder fails with a message saying to move it to test/integration.
// - The forward-proxy variables (HTTPS_PROXY, http_proxy, NO_PROXY…) of the machine are dropped: the in-process
//   HTTP client and every child a test starts would otherwise send loopback traffic to CI's proxy. Tests that
//   want a proxy set it on the client or the child they start.
import { DEFAULT_TEST_TIMEOUT_MS } from '../../fixtures/real-components/budgets';
import { dropProxyVariables } from './cli-runner';
import { setPurityGuard } from './purity-guard';

dropProxyVariables(process.env);

jest.setTimeout(DEFAULT_TEST_TIMEOUT_MS);

setPurityGuard((globalThis as { COOKIE_BRIDGE_PURE_UNIT?: unknown }).COOKIE_BRIDGE_PURE_UNIT === true);
afterAll(() => setPurityGuard(false));
