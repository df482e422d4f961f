import { startDemoApi, type RunningDemoApi } from '../../fixtures/demo-api';
import {
  startOAuth2ProxyLookalike,
  type OAuth2ProxyLookalike,
  type OAuth2ProxyLookalikeOptions,
} from '../../fixtures/oauth2-proxy-lookalike';

/** The demo API behind the oauth2-proxy look-alike, both on 127.0.0.1 port 0. */
export interface LookalikeStack {
  api: RunningDemoApi;
  proxy: OAuth2ProxyLookalike;
  /** The endpoint users log in to: the proxy. */
  url: string;
  close(): Promise<void>;
}

export async function startLookalikeStack(
  options: Omit<OAuth2ProxyLookalikeOptions, 'upstream'> = {},
): Promise<LookalikeStack> {
  const api = await startDemoApi();
  const proxy = await startOAuth2ProxyLookalike({ upstream: api.url, ...options });
  return {
    api,
    proxy,
    url: proxy.url,
    close: async () => {
      await proxy.close();
      await api.close();
    },
  };
}
