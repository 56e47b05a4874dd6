/**
 * A version's reference profile: how its training split looked, feature by feature, and how its
 * outputs were distributed. Drift (drift.ts) compares live inputs with it.
 */
import type { InputColumn } from './preprocessing';
import { compareStrings } from './preprocessing';
import { Random } from './random';

/** A numeric column: decile bins and a sample of the values. */
export interface NumericProfile {
  kind: 'number';
  name: string;
  /** Rows seen, missing ones included. */
  count: number;
  /** Rows whose value was missing (NaN / null). */
  missing: number;
  /**
   * Interior bin edges, ascending and distinct; bin i holds values in (edges[i-1], edges[i]], the
   * first bin everything ≤ edges[0], the last everything > the last edge. Deciles of the values,
   * deduplicated, and only edges below the maximum; a column of at most 10 distinct values gets
   * one bin per value: a 0/1 column has one edge (0) and two bins, whatever its share of zeros.
   * The deciles are numpy's quantiles with method 'lower': the value at position floor((n − 1)·q)
   * of the sorted values, so every bin holds some of the reference values.
   */
  edges: number[];
  /** Non-missing values per bin: edges.length + 1 entries. */
  counts: number[];
  /** min, max, mean and std (population, ddof 0) of the non-missing values; NaN when none. */
  min: number;
  max: number;
  mean: number;
  std: number;
}

/** A string column (or a classifier's labels): category frequencies. */
export interface CategoricalProfile {
  kind: 'string';
  name: string;
  count: number;
  missing: number;
  /** Category → non-missing rows with it; the most frequent MAX_PROFILE_CATEGORIES, the rest under OTHER_CATEGORY. */
  categories: Record<string, number>;
}

export type ColumnProfile = NumericProfile | CategoricalProfile;

export interface ReferenceProfile {
  /** Rows profiled (the training split). */
  rows: number;
  features: ColumnProfile[];
  /** The version's outputs on those rows: a regressor's values, a classifier's labels. */
  predictions: ColumnProfile | null;
}

/**
 * The values KS and Wasserstein compare against, per numeric column (features in order, then the
 * predictions if numeric), sorted ascending: all of them up to REFERENCE_SAMPLE_SIZE, else a
 * uniform random sample of that size. Kept apart from the profile (it is large).
 */
export interface ReferenceSamples {
  [column: string]: Float64Array;
}

/** Up to this many values per numeric column are kept for KS: scipy's exact KS covers up to 10,000. */
export const REFERENCE_SAMPLE_SIZE = 10_000;

/**
 * Categories kept by name per string column; the rarer ones are counted together under
 * OTHER_CATEGORY, so a column of ids does not make a profile of a million entries.
 */
export const MAX_PROFILE_CATEGORIES = 50;
export const OTHER_CATEGORY = '__other__';

/** The deciles that become bin edges. Literal decimals, as numpy reads `[0.1, …, 0.9]`. */
const DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/**
 * Profiles `rows` of the raw columns (the training split), and the model's outputs on those rows
 * when given (aligned with `rows`: predictions.values[i] belongs to rows[i]).
 * Deterministic for a seed: the samples of columns with more than REFERENCE_SAMPLE_SIZE values are
 * drawn with one Random(seed), column after column.
 */
export function profileReference(
  features: InputColumn[],
  rows: Uint32Array,
  predictions: InputColumn | null,
  seed: number,
): { profile: ReferenceProfile; samples: ReferenceSamples } {
  const random = new Random(seed);
  const samples: ReferenceSamples = {};
  const rowCount = features.length > 0 ? features[0].values.length : 0;
  // A profile does not depend on the order of the rows; in ascending order the columns are read
  // front to back instead of at random (the split shuffles): ~2 ms instead of ~14 ms per
  // million-row column. null: every row, in order.
  const ascending = ascendingRows(rows, rowCount);
  const featureRows = ascending.length === rowCount && isIdentity(ascending) ? null : ascending;
  const profileColumn = (column: InputColumn, index: Uint32Array | null): ColumnProfile => {
    if (column.type === 'string') {
      return profileStrings(column.name, column.values, index);
    }
    const present = presentValues(column.values, index);
    samples[column.name] = sampleOf(present, random);
    return profileNumbers(column.name, present, index ? index.length : column.values.length);
  };
  const profile: ReferenceProfile = {
    rows: rows.length,
    features: features.map((feature) => profileColumn(feature, featureRows)),
    // The predictions are already aligned with `rows`: read them all, in order.
    predictions: predictions ? profileColumn(predictions, null) : null,
  };
  return { profile, samples };
}

/** `rows` in ascending order by counting (a typed-array sort of a million takes ~70 ms). */
function ascendingRows(rows: Uint32Array, rowCount: number): Uint32Array {
  const times = new Uint32Array(rowCount);
  for (let i = 0; i < rows.length; i++) times[rows[i]]++;
  const out = new Uint32Array(rows.length);
  let k = 0;
  for (let row = 0; row < rowCount; row++) {
    for (let t = times[row]; t > 0; t--) out[k++] = row;
  }
  return out;
}

/**
 * The non-missing values of `rows` (of every row when `rows` is null), in row order: the column
 * itself, not a copy, when that is every row in order with none missing (nothing here writes to
 * it).
 */
function presentValues(values: Float64Array, rows: Uint32Array | null): Float64Array {
  const n = rows ? rows.length : values.length;
  if (rows === null && !hasMissing(values)) {
    return values;
  }
  const present = new Float64Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = rows ? values[rows[i]] : values[i];
    if (v === v) present[count++] = v;
  }
  return present.subarray(0, count);
}

function isIdentity(rows: Uint32Array): boolean {
  for (let i = 0; i < rows.length; i++) {
    if (rows[i] !== i) return false;
  }
  return true;
}

function hasMissing(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) return true;
  }
  return false;
}

/**
 * A sorted copy of the values, or of a uniform sample of REFERENCE_SAMPLE_SIZE of them without
 * replacement: a partial Fisher–Yates shuffle of their positions, those it moved kept in a map.
 * The same sample as shuffling the values themselves, which are left as they are.
 */
function sampleOf(values: Float64Array, random: Random): Float64Array {
  const n = values.length;
  const size = Math.min(n, REFERENCE_SAMPLE_SIZE);
  if (size === n) return values.slice().sort();
  const moved = new MovedPositions(size);
  const sample = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const j = i + random.nextInt(n - i);
    const atJ = moved.get(j);
    moved.set(j, moved.get(i));
    sample[i] = values[atJ];
  }
  return sample.sort();
}

/**
 * Where a partial shuffle moved each position (a position never moved is where it was): an
 * open-addressing table in two typed arrays, a few times faster than a Map of numbers here.
 */
class MovedPositions {
  private readonly keys: Int32Array;
  private readonly values: Int32Array;
  private readonly mask: number;

  /** Room for `moves` sets at under half load. */
  constructor(moves: number) {
    const capacity = 1 << Math.ceil(Math.log2(4 * moves));
    this.keys = new Int32Array(capacity).fill(-1);
    this.values = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  get(position: number): number {
    const slot = this.slotOf(position);
    return this.keys[slot] === position ? this.values[slot] : position;
  }

  set(position: number, to: number): void {
    const slot = this.slotOf(position);
    this.keys[slot] = position;
    this.values[slot] = to;
  }

  /** The slot holding `position`, or the empty one where it goes (Knuth's multiplicative hash). */
  private slotOf(position: number): number {
    let slot = Math.imul(position, 0x9e3779b1) & this.mask;
    while (this.keys[slot] !== -1 && this.keys[slot] !== position) slot = (slot + 1) & this.mask;
    return slot;
  }
}

/** Summary, deciles and bin counts of the non-missing values. */
function profileNumbers(name: string, values: Float64Array, count: number): NumericProfile {
  const n = values.length;
  const profile: NumericProfile = {
    kind: 'number',
    name,
    count,
    missing: count - n,
    edges: [],
    counts: [0],
    min: NaN,
    max: NaN,
    mean: NaN,
    std: NaN,
  };
  if (n === 0) {
    return profile;
  }
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  // A column of a few distinct values (flags, counts, ratings) gets a bin per value: its deciles
  // would merge them, and a 0/1 column with under 10% zeros would get one bin that no shift in
  // its share of zeros could move.
  const distinct = fewDistinct(values, DECILES.length + 1);
  // Otherwise the deciles come from a histogram counted in the variance pass below.
  const histogram = distinct ? null : Histogram.between(min, max, n);
  // Corrected two-pass variance (as in preprocessing.ts): the leftover deviation removes the
  // mean's rounding.
  let deviation = 0;
  let squares = 0;
  if (histogram) {
    const { counts } = histogram;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const d = v - mean;
      deviation += d;
      squares += d * d;
      counts[histogram.bucketOf(v)]++;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const d = values[i] - mean;
      deviation += d;
      squares += d * d;
    }
  }
  const variance = Math.max(0, (squares - (deviation * deviation) / n) / n);
  Object.assign(profile, { min, max, mean: min === max ? min : mean, std: Math.sqrt(variance) });

  if (distinct) {
    profile.edges = distinct.slice(0, -1);
    profile.counts = binCounts(values, profile.edges);
  } else if (histogram) {
    Object.assign(profile, decileBins(values, histogram, max));
  } else {
    const edges = distinctEdges(quantiles(values, DECILES), max);
    Object.assign(profile, { edges, counts: binCounts(values, edges) });
  }
  return profile;
}

/** Deciles as bin edges: only those below the maximum, each once. */
function distinctEdges(deciles: readonly number[], max: number): number[] {
  const edges: number[] = [];
  for (const q of deciles) {
    if (q < max && (edges.length === 0 || q > edges[edges.length - 1])) edges.push(q);
  }
  return edges;
}

/**
 * Edges and bin counts from a histogram of the values, without another pass over them to count:
 * the buckets are monotone in value, so the values at most an edge are those of the buckets below
 * the edge's bucket and those of its own bucket (gathered to find the edge) that are at most it.
 */
function decileBins(
  values: Float64Array,
  histogram: Histogram,
  max: number,
): { edges: number[]; counts: number[] } {
  const n = values.length;
  const ranks = DECILES.map((q) => Math.min(Math.floor((n - 1) * q), n - 1));
  const { statistics, atMost } = histogram.select(values, ranks, 0);
  const edges = distinctEdges(statistics, max);
  const counts: number[] = [];
  let counted = 0;
  for (const edge of edges) {
    const upTo = atMost[statistics.indexOf(edge)];
    counts.push(upTo - counted);
    counted = upTo;
  }
  counts.push(n - counted);
  return { edges, counts };
}

/** The distinct values, ascending, when there are at most `limit` of them; else null. */
function fewDistinct(values: Float64Array, limit: number): number[] | null {
  const seen: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (seen.includes(value)) continue;
    if (seen.length === limit) return null;
    seen.push(value);
  }
  return seen.sort((a, b) => a - b);
}

/**
 * numpy.quantile(values, qs, method='lower'): the value at position floor((n − 1)·q) of the
 * sorted values. Edges taken from the values themselves (rather than numpy's default, which
 * interpolates between neighbours) make every bin hold some reference values: an interpolated
 * edge between the last 0 and the first 1 of a 0/1 column would make a bin that only live values
 * can fall in, and the column would get three bins instead of two. `values` is left as it is.
 */
export function quantiles(values: Float64Array, qs: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return qs.map(() => NaN);
  const ranks = qs.map((q) => Math.min(Math.floor((n - 1) * q), n - 1));
  const distinct = [...new Set(ranks)].sort((a, b) => a - b);
  const statistics = orderStatistics(values, distinct, 0);
  return ranks.map((rank) => statistics[distinct.indexOf(rank)]);
}

/** Buckets of the histograms orderStatistics counts into. */
const HISTOGRAM_BUCKETS = 4096;
/** Ranges this small are sorted outright; so are ranges a few histograms have not spread. */
const SORT_BELOW = 4096;
const MAX_HISTOGRAM_DEPTH = 4;

/**
 * The values at `ranks` (ascending) of the sorted order, without sorting: a histogram of 4096
 * equal-width buckets between min and max finds the bucket of each rank; only those buckets' values
 * are gathered, and the same is done on them. Two passes over a million values cost ~10 ms where
 * a sort costs ~150 ms (and a multi-rank quickselect ~45 ms).
 */
function orderStatistics(values: Float64Array, ranks: readonly number[], depth: number): number[] {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) return ranks.map(() => min);
  const histogram = depth < MAX_HISTOGRAM_DEPTH ? Histogram.between(min, max, n) : null;
  if (!histogram) {
    const sorted = values.slice().sort();
    return ranks.map((rank) => sorted[rank]);
  }
  histogram.count(values);
  return histogram.select(values, ranks, depth).statistics;
}

/** HISTOGRAM_BUCKETS equal-width buckets from `low`; the last also takes the maximum. */
class Histogram {
  readonly counts = new Uint32Array(HISTOGRAM_BUCKETS);
  readonly last = HISTOGRAM_BUCKETS - 1;

  private constructor(
    readonly low: number,
    readonly scale: number,
  ) {}

  /** A histogram for `n` values in [min, max], or null where sorting them is the better way. */
  static between(min: number, max: number, n: number): Histogram | null {
    const scale = HISTOGRAM_BUCKETS / (max - min);
    return n < SORT_BELOW || !(scale > 0 && scale < Infinity) ? null : new Histogram(min, scale);
  }

  bucketOf(v: number): number {
    return Math.min(this.last, Math.floor((v - this.low) * this.scale));
  }

  count(values: Float64Array): void {
    const { counts } = this;
    for (let i = 0; i < values.length; i++) counts[this.bucketOf(values[i])]++;
  }

  /**
   * The values at `ranks` (ascending) of the counted values' sorted order, and for each how many
   * values are at most it: the buckets holding the ranks are gathered and searched in turn.
   */
  select(
    values: Float64Array,
    ranks: readonly number[],
    depth: number,
  ): { statistics: number[]; atMost: number[] } {
    const { counts } = this;
    // Per rank: its bucket, the values in the buckets below it, and its rank within its bucket.
    const buckets: number[] = [];
    const belowBucket: number[] = [];
    let below = 0;
    let bucket = 0;
    for (const rank of ranks) {
      while (below + counts[bucket] <= rank) below += counts[bucket++];
      buckets.push(bucket);
      belowBucket.push(below);
    }
    const wanted = [...new Set(buckets)];
    const slotOf = new Int32Array(HISTOGRAM_BUCKETS).fill(-1);
    wanted.forEach((b, slot) => (slotOf[b] = slot));
    const gathered = wanted.map((b) => new Float64Array(counts[b]));
    const filled = new Uint32Array(wanted.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      const slot = slotOf[this.bucketOf(v)];
      if (slot >= 0) gathered[slot][filled[slot]++] = v;
    }
    const statistics = wanted.flatMap((b, slot) => {
      const mine = ranks.map((_, k) => k).filter((k) => buckets[k] === b);
      return orderStatistics(
        gathered[slot],
        mine.map((k) => ranks[k] - belowBucket[k]),
        depth + 1,
      );
    });
    const atMost = statistics.map((statistic, k) => {
      const own = gathered[slotOf[buckets[k]]];
      let count = belowBucket[k];
      for (let i = 0; i < own.length; i++) if (own[i] <= statistic) count++;
      return count;
    });
    return { statistics, atMost };
  }
}

/**
 * Values per right-closed bin: bin i is (edges[i-1], edges[i]]. A value's bin is the number of
 * edges below it, counted without branches against the (at most nine) edges padded with +∞: seven
 * times faster than a binary search, whose branches the processor cannot predict.
 */
export function binCounts(values: Float64Array, edges: readonly number[]): number[] {
  if (edges.length > DECILES.length) {
    throw new RangeError(`At most ${DECILES.length} bin edges, got ${edges.length}.`);
  }
  const padded = new Float64Array(DECILES.length).fill(Infinity);
  padded.set(edges);
  const [e0, e1, e2, e3, e4, e5, e6, e7, e8] = padded;
  const counts = new Float64Array(DECILES.length + 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    counts[
      +(v > e0) +
        +(v > e1) +
        +(v > e2) +
        +(v > e3) +
        +(v > e4) +
        +(v > e5) +
        +(v > e6) +
        +(v > e7) +
        +(v > e8)
    ]++;
  }
  return Array.from(counts.subarray(0, edges.length + 1));
}

/** Category counts, the most frequent MAX_PROFILE_CATEGORIES by name (ties: name order). */
function profileStrings(
  name: string,
  values: (string | null)[],
  rows: Uint32Array | null,
): CategoricalProfile {
  const n = rows ? rows.length : values.length;
  const counts = new Map<string, number>();
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const v = rows ? values[rows[i]] : values[i];
    if (v === null) missing++;
    else counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || compareStrings(a[0], b[0]));
  const kept = new Map(ranked.slice(0, MAX_PROFILE_CATEGORIES));
  const other = ranked.slice(MAX_PROFILE_CATEGORIES).reduce((sum, [, c]) => sum + c, 0);
  if (other > 0) kept.set(OTHER_CATEGORY, (kept.get(OTHER_CATEGORY) ?? 0) + other);
  // fromEntries defines own properties, so a category named "__proto__" stays a category.
  return { kind: 'string', name, count: n, missing, categories: Object.fromEntries(kept) };
}
