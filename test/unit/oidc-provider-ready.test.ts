import { announcedIssuer, lastFixtureStage } from '../../fixtures/real-components/oidc-provider';

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

// Its stage lines on stderr say how far a start got; the launcher's timeout message quotes the last one.
describe('the OpenID provider fixture reporting its stages', () => {
  it('gives the last stage line, among the other lines on stderr', () => {
    const output = [
      'oidc-provider fixture: stage imported +412\n',
      'oidc-provider WARNING: Unsupported runtime.\n',
      'oidc-provider fixture: stage options-parsed +415\n',
      'oidc-provider WARNING: a quick start development-only in-memory adapter is used\n',
      'oidc-provider fixture: stage listening +420\n',
    ].join('');
    expect(lastFixtureStage(output)).toEqual({ name: 'listening', atMs: 420 });
  });

  it('none before the first one', () => {
    expect(lastFixtureStage('oidc-provider WARNING: Unsupported runtime.\n')).toBeUndefined();
  });
});
