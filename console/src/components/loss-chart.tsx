import type { ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import { Chart, COLORS, type Series } from './chart';

/** The most losses a run records (src/ml/optimizers.ts `runEpochs`). */
const MAX_RECORDED = 1000;

export interface LossChartProps {
  /** What the chart shows, for screen readers. */
  title: string;
  /** The epoch of each point, or null when unknown: the x axis then counts recorded points. */
  epochs: number[] | null;
  train: number[];
  /** Validation loss at the same points, when the run monitored one. */
  validation?: (number | null)[] | null;
  /** The page's own sentence under the chart. */
  note?: ComponentChildren;
}

/** Training (and validation) loss by epoch, on a log axis when the loss spans decades. */
export function LossChart({ title, epochs, train, validation, note }: LossChartProps) {
  const x = useMemo(() => epochs ?? train.map((_, i) => i + 1), [epochs, train]);
  const series = useMemo<Series[]>(() => {
    const list: Series[] = [{ label: 'Training loss', values: train, color: COLORS[0] }];
    if (validation) list.push({ label: 'Validation loss', values: validation, color: COLORS[1] });
    return list;
  }, [train, validation]);
  const log = usesLogScale([...train, ...(validation ?? [])]);
  return (
    <>
      <Chart
        title={title}
        x={x}
        xLabel={epochs ? 'Epoch' : 'Recorded point'}
        series={series}
        yLog={log}
      />
      <p class="hint">
        {note}
        {log && ' The loss axis is logarithmic: the loss spans more than two decades.'}
        {!epochs && ' The run recorded evenly spaced epochs, not every one.'}
      </p>
    </>
  );
}

/** Whether a log axis reads better: every value positive, spanning more than two decades. */
export function usesLogScale(values: (number | null)[]): boolean {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length < 2) return false;
  const min = Math.min(...finite);
  return min > 0 && Math.max(...finite) / min > 100;
}

/**
 * The epochs of a run's recorded losses, or null when they cannot be known. A run records every
 * ⌈planned / 1000⌉th epoch and always the last, so with `run` (the epochs it ran) each point's
 * epoch is exact; without it, only when every epoch was recorded (planned ≤ 1000).
 */
export function recordedEpochs(
  points: number,
  planned: number | null,
  run: number | null,
): number[] | null {
  const basis = planned ?? run;
  if (points === 0 || basis === null || !(basis > 0)) return null;
  const stride = Math.ceil(basis / MAX_RECORDED);
  if (run === null) {
    return stride === 1 ? Array.from({ length: points }, (_, i) => i + 1) : null;
  }
  const expected = Math.ceil(run / stride);
  if (expected !== points) return null;
  return Array.from({ length: points }, (_, i) => (i === points - 1 ? run : (i + 1) * stride));
}
