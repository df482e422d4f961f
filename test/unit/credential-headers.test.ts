import { basicHeader, bearer } from '../../src/protocol/credential-headers';

describe('credential headers', () => {
  it.each([
    // RFC 7617 section 2 and its UTF-8 example (section 2.1).
    ['Aladdin', 'open sesame', 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='],
    ['test', '123\u00a3', 'Basic dGVzdDoxMjPCow=='],
    ['user', 'pa:ss', 'Basic dXNlcjpwYTpzcw=='],
  ])('basicHeader(%j, %j) is %s', (username, password, expected) => {
    expect(basicHeader(username, password)).toEqual({ authorization: expected });
  });

  it('bearer sends the token as it is', () => {
    expect(bearer('abc.DEF-123')).toEqual({ authorization: 'Bearer abc.DEF-123' });
  });
});
