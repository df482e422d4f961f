import { Refusal, refusalBody, renderRefusalHtml, renderRefusalJson } from '../../src/http/refusal';

describe('Refusal', () => {
  const refusal = new Refusal(
    403,
    'cross_origin_refused',
    'requests from "<b>evil</b>" & co are refused',
    true,
  );

  it('is an Error with a status, a stable code and whether to drop the connection', () => {
    expect(refusal).toBeInstanceOf(Error);
    expect(refusal).toMatchObject({ status: 403, code: 'cross_origin_refused', dropConnection: true });
    expect(new Refusal(404, 'not_found', 'm').dropConnection).toBe(false);
  });

  it('has one JSON form: {error: code, message}', () => {
    expect(refusalBody(refusal)).toEqual({
      error: 'cross_origin_refused',
      message: 'requests from "<b>evil</b>" & co are refused',
    });
    expect(renderRefusalJson(refusal)).toBe(`${JSON.stringify(refusalBody(refusal))}\n`);
  });

  it('has one HTML form that escapes the message and runs nothing', () => {
    const page = renderRefusalHtml(refusal, 'Nothing was saved.');
    expect(page).toContain('<title>cookie-bridge: 403</title>');
    expect(page).toContain(
      'requests from &quot;&lt;b&gt;evil&lt;/b&gt;&quot; &amp; co are refused Nothing was saved.',
    );
    expect(page).not.toContain('<b>');
    expect(page).not.toMatch(/<script|src=|href=/i);
  });
});
