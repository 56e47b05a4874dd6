import type { LoadedVersion, ServedRoute } from './loaded-models.service';
import { chooseVersion, mirrors, stickyDraw } from './traffic-split';

const version = (n: number) => ({ model: 'm', version: n }) as LoadedVersion;
const route = (weight: number | null, fraction: number | null = null): ServedRoute => ({
  alias: 'production',
  primary: version(1),
  canary: weight === null ? null : { version: version(2), weight },
  shadow: fraction === null ? null : { version: version(3), fraction },
});

describe('traffic split', () => {
  it('serves the alias version alone when there is no canary', () => {
    const plain = route(null);
    for (let i = 0; i < 100; i++) expect(chooseVersion(plain, undefined)).toBe(plain.primary);
  });

  it('gives the canary its weight of random draws', () => {
    const split = route(0.3);
    let canary = 0;
    for (let i = 0; i < 20_000; i++) {
      if (chooseVersion(split, undefined) === split.canary?.version) canary++;
    }
    // 20,000 draws at p = 0.3: the standard deviation of the share is 0.0032.
    expect(Math.abs(canary / 20_000 - 0.3)).toBeLessThan(0.015);
  });

  it('keeps a routing key on one version, and moves keys only onto the canary as the weight grows', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `user-${i}`);
    const at = (weight: number) => keys.map((key) => chooseVersion(route(weight), key).version);
    const low = at(0.1);
    expect(at(0.1)).toEqual(low);
    const share = low.filter((v) => v === 2).length / keys.length;
    expect(Math.abs(share - 0.1)).toBeLessThan(0.02);
    const high = at(0.5);
    for (let i = 0; i < keys.length; i++) if (low[i] === 2) expect(high[i]).toBe(2);
  });

  it('draws a routing key the same way for every process: SHA-1 of model and key', () => {
    // The first 32 bits of sha1("m\nuser-1"), from Python's hashlib.
    expect(stickyDraw('m', 'user-1')).toBeCloseTo(0x2e178289 / 2 ** 32, 12);
    expect(stickyDraw('other', 'user-1')).not.toBeCloseTo(stickyDraw('m', 'user-1'), 6);
  });

  it('treats an empty routing key as none', () => {
    const split = route(0.5);
    const versions = new Set(Array.from({ length: 200 }, () => chooseVersion(split, '').version));
    expect(versions).toEqual(new Set([1, 2]));
  });

  it('mirrors its fraction of requests, and none without a shadow', () => {
    expect(Array.from({ length: 100 }, () => mirrors(route(null))).some(Boolean)).toBe(false);
    expect(Array.from({ length: 100 }, () => mirrors(route(null, 1))).every(Boolean)).toBe(true);
    const half = Array.from({ length: 10_000 }, () => mirrors(route(null, 0.5))).filter(Boolean);
    expect(Math.abs(half.length / 10_000 - 0.5)).toBeLessThan(0.03);
  });
});
