import { announcedIssuer } from '../../fixtures/real-components/oidc-provider';

// The launcher captures the provider's stdout and stderr interleaved: its ready object must be found wherever a
// chunk of stderr put it, not only at the start of a line.
describe('the OpenID provider fixture announcing itself', () => {
  const ready = '{"issuer":"http://127.0.0.1:40661","port":40661}';

  it.each([
    ['alone on its line', `${ready}\n`],
    ['after warnings on stderr', `oidc-provider WARNING: Unsupported runtime.\n${ready}\n`],
    ['inside a stderr line split in two chunks', `oidc-provider WARN${ready}\nING: a quick start adapter\n`],
  ])('%s', (_name, output) => {
    expect(announcedIssuer(output)).toBe('http://127.0.0.1:40661');
  });

  it('not yet, or only half of it', () => {
    expect(announcedIssuer('')).toBeUndefined();
    expect(
      announcedIssuer('oidc-provider WARNING: Unsupported runtime.\n{"issuer":"http://127.0.0.1:4'),
    ).toBeUndefined();
  });
});
