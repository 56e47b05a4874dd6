import { checkJsonText, MAX_JSON_DEPTH } from './strict-json';

describe('findDuplicateKey', () => {
  it.each([
    ['{"a":1,"a":2}', 'a'],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['{"x":[{"k":1},{"k":2,"y":3,"k":4}]}', 'k'],
    ['{"a" : 1, "b": "a", "a" :3}', 'a'],
    ['{"\\u0061":1,"a":2}', 'a'],
    ['[{"q":"\\"","q":1}]', 'q'],
  ])('finds the repeated key in %s', (text, key) => {
    expect(checkJsonText(text)).toEqual({ duplicateKey: key });
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels, of arrays or objects`, () => {
    const arrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    expect(checkJsonText(arrays(MAX_JSON_DEPTH))).toBeNull();
    expect(checkJsonText(arrays(MAX_JSON_DEPTH + 1))).toEqual({ tooDeep: true });
    expect(
      checkJsonText('{"a":'.repeat(MAX_JSON_DEPTH + 1) + '1' + '}'.repeat(MAX_JSON_DEPTH + 1)),
    ).toEqual({
      tooDeep: true,
    });
    expect(checkJsonText('["' + '['.repeat(100) + '"]')).toBeNull();
  });

  it.each([
    '{"a":1,"b":{"a":2}}',
    '{"instances":[[1,2],[3,4]]}',
    '[{"a":1},{"a":2}]',
    '{"a":"a","b":"\\"a\\":"}',
    '"just a string"',
    '12',
    '{}',
  ])('accepts %s', (text) => {
    expect(checkJsonText(text)).toBeNull();
  });

  it('finds a repeat among many keys, and accepts as many distinct ones (the Set beyond 16)', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`);
    expect(checkJsonText(`{${keys.join(',')}}`)).toBeNull();
    expect(checkJsonText(`{${[...keys, '"k3":0'].join(',')}}`)).toEqual({ duplicateKey: 'k3' });
    expect(checkJsonText(`[{${keys.join(',')}},{"k39":1,"k39":2}]`)).toEqual({
      duplicateKey: 'k39',
    });
  });

  it('starts each text afresh after one it stopped in the middle of', () => {
    expect(checkJsonText('{"a":1,"a":2,"b":[1,2,3]}')).toEqual({ duplicateKey: 'a' });
    expect(checkJsonText('{"b":1}')).toBeNull();
  });
});
