/** The nginx config of the load balancer in front of serve replicas (fixtures/real-components/nginx-load-balancer.ts). */
import { renderLoadBalancerConfig } from '../../fixtures/real-components/nginx-load-balancer';

describe('renderLoadBalancerConfig', () => {
  const render = (routes: Parameters<typeof renderLoadBalancerConfig>[0]['routes']): string =>
    renderLoadBalancerConfig({ routes }, 8088, '/tmp/lb', undefined);

  it('one upstream per route, on loopback, the raw request target passed on, the answering replica logged', () => {
    const config = render([
      { location: '= /cookie-bridge/relay/claim', replicas: ['http://127.0.0.1:4002'] },
      { location: '/', replicas: ['http://127.0.0.1:4001', 'http://127.0.0.1:4003'] },
    ]);
    expect(config).toContain('listen 127.0.0.1:8088;');
    expect(config).toMatch(/upstream replicas_0 \{\n\s+server 127\.0\.0\.1:4002;\n\s+\}/);
    expect(config).toMatch(
      /upstream replicas_1 \{\n\s+server 127\.0\.0\.1:4001;\n\s+server 127\.0\.0\.1:4003;\n\s+\}/,
    );
    expect(config).toMatch(/location = \/cookie-bridge\/relay\/claim \{\n\s+proxy_pass http:\/\/replicas_0;/);
    expect(config).toMatch(/location \/ \{\n\s+proxy_pass http:\/\/replicas_1;/);
    expect(config).toContain('proxy_next_upstream off;');
    expect(config).toContain('upstream=$upstream_addr');
    expect(config).not.toContain('{{');
  });

  it('refuses what would not be a plain location or replica origin', () => {
    expect(() => render([])).toThrow('at least one route');
    expect(() => render([{ location: '/ { return 200; }', replicas: ['http://127.0.0.1:1'] }])).toThrow(
      'not a location',
    );
    expect(() => render([{ location: '/', replicas: [] }])).toThrow('no replica');
    expect(() => render([{ location: '/', replicas: ['http://127.0.0.1:1/path'] }])).toThrow('http origin');
  });
});
