import { InvalidInputError } from '../common/errors';
import { assertVersion, MAX_VERSION, parseVersion } from './version-number';

describe('version numbers', () => {
  it.each(['1', '42', String(MAX_VERSION)])('reads %s', (text) => {
    expect(parseVersion(text, 'version')).toBe(Number(text));
  });

  it.each([
    '9007199254740993', // above MAX_SAFE_INTEGER: Number() would read …992
    '9007199254740992',
    String(MAX_VERSION + 1),
    '0',
    '01',
    '-1',
    '+1',
    '1e3',
    '1.0',
    ' 1',
    '0x1',
    'Infinity',
    '',
  ])('refuses %j with a 400 naming the field', (text) => {
    expect(() => parseVersion(text, 'version')).toThrow(InvalidInputError);
    try {
      parseVersion(text, 'version');
    } catch (error) {
      expect((error as InvalidInputError).errors).toEqual([
        { field: 'version', message: expect.stringMatching(/from 1 to 2147483647/) },
      ]);
    }
  });

  it('refuses numbers already read that are not a version', () => {
    for (const bad of [0, 1.5, Number('9007199254740993'), MAX_VERSION + 1, Infinity, NaN]) {
      expect(() => assertVersion(bad, 'querystring.version')).toThrow(InvalidInputError);
    }
    expect(assertVersion(MAX_VERSION, 'querystring.version')).toBe(MAX_VERSION);
  });
});
