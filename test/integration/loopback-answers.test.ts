import { startLoopbackListener, type LoopbackListener } from '../../src/login/loopback-listener';
import { rawRequest } from '../kit/hostile-kit';

const ORIGIN = 'https://api.example.test';

let listener: LoopbackListener;
beforeEach(async () => {
  listener = await startLoopbackListener({ endpointOrigin: ORIGIN, state: 'state-0123456789abcdefghij' });
});
afterEach(() => listener.close());

describe('loopback listener answers', () => {
  test('a 405 names the methods it takes in Allow', async () => {
    const reply = await rawRequest(listener.port, { path: '/callback', headers: { origin: ORIGIN } });
    expect(reply.status).toBe(405);
    expect(reply.headers?.allow).toBe('POST, OPTIONS');
  });

  test('other refusals carry no Allow', async () => {
    const reply = await rawRequest(listener.port, {
      method: 'POST',
      path: '/admin',
      headers: { origin: ORIGIN },
    });
    expect(reply.status).toBe(404);
    expect(reply.headers?.allow).toBeUndefined();
  });
});
