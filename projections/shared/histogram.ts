/**
 * A bounded latency histogram, HDR-style: exact below 64 ms, then 32 log-linear buckets per power of
 * two (about 3% relative error), stored sparsely. However many samples it takes, it stays a few
 * hundred numbers at most, and it serialises as plain JSON. Immutable: `record` returns a new one.
 */
export interface Histogram {
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** Bucket index to sample count. */
  readonly buckets: Readonly<Record<string, number>>;
}

export const emptyHistogram: Histogram = Object.freeze({ count: 0, sum: 0, min: 0, max: 0, buckets: Object.freeze({}) });

const EXACT = 64;
const SUB = 32;

export function bucketOf(value: number): number {
  const v = Math.max(0, Math.round(value));
  if (v < EXACT) return v;
  const shift = Math.floor(Math.log2(v)) - 5;
  return EXACT + (shift - 1) * SUB + ((v >> shift) - SUB);
}

/** The highest value that falls in a bucket. */
export function bucketUpperBound(index: number): number {
  if (index < EXACT) return index;
  const shift = Math.floor((index - EXACT) / SUB) + 1;
  const sub = ((index - EXACT) % SUB) + SUB;
  return ((sub + 1) << shift) - 1;
}

export function record(histogram: Histogram, value: number): Histogram {
  const key = String(bucketOf(value));
  const v = Math.max(0, value);
  return {
    count: histogram.count + 1,
    sum: histogram.sum + v,
    min: histogram.count === 0 ? v : Math.min(histogram.min, v),
    max: histogram.count === 0 ? v : Math.max(histogram.max, v),
    buckets: { ...histogram.buckets, [key]: (histogram.buckets[key] ?? 0) + 1 },
  };
}

/** The value below which `p` percent of the samples fall (bucket upper bound, clamped to the max seen). */
export function percentile(histogram: Histogram, p: number): number | undefined {
  if (histogram.count === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * histogram.count));
  const indexes = Object.keys(histogram.buckets).map(Number).sort((a, b) => a - b);
  let seen = 0;
  for (const index of indexes) {
    seen += histogram.buckets[String(index)] ?? 0;
    if (seen >= rank) return Math.min(Math.max(bucketUpperBound(index), histogram.min), histogram.max);
  }
  return histogram.max;
}

export interface LatencySummary {
  readonly count: number;
  readonly mean: number | undefined;
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
  readonly max: number | undefined;
}

export function summarise(histogram: Histogram): LatencySummary {
  const any = histogram.count > 0;
  return {
    count: histogram.count,
    mean: any ? histogram.sum / histogram.count : undefined,
    p50: percentile(histogram, 50),
    p95: percentile(histogram, 95),
    p99: percentile(histogram, 99),
    max: any ? histogram.max : undefined,
  };
}
