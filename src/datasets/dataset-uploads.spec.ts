import { InvalidInputError } from '../common/errors';
import { nameFromFile } from './dataset-uploads';

describe('nameFromFile', () => {
  it.each([
    ['data.csv', 'data'],
    ['house prices (2).csv', 'house-prices-2'],
    ['C:\\Users\\me\\iris.v2.csv', 'iris.v2'],
    ['/tmp/_scratch.json', 'scratch'],
    ['no-extension', 'no-extension'],
    ['données.csv', 'donn-es'],
  ])('names a dataset uploaded as %s "%s"', (file, name) => {
    expect(nameFromFile(file)).toBe(name);
  });

  it('keeps at most 128 characters', () => {
    expect(nameFromFile(`${'a'.repeat(200)}.csv`)).toHaveLength(128);
  });

  it('asks for ?name= when nothing of the file name is usable', () => {
    for (const file of ['.csv', '---.csv', '日本.csv', '']) {
      expect(() => nameFromFile(file)).toThrow(InvalidInputError);
      expect(() => nameFromFile(file)).toThrow(/pass one as \?name=my-data/);
    }
  });
});
