import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
}

export interface ChartProps {
  /** What the chart shows, for screen readers (the figure's accessible name). */
  title: string;
  x: number[];
  xLabel: string;
  series: Series[];
  /** Draw bars (histograms) instead of lines. */
  bars?: boolean;
  /** Label the x axis with these instead of numbers (bars over categories or bins: x = 0, 1, …). */
  xTicks?: string[];
  yLog?: boolean;
  height?: number;
}

/**
 * A uPlot chart that follows its container's width. Updates replace the data in place, so a live
 * curve (a running job's loss) grows without the chart being rebuilt.
 */
export function Chart({ title, x, xLabel, series, bars, xTicks, yLog, height = 260 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${series.map((s) => s.label).join('|')}|${bars}|${yLog}|${xTicks?.join('|')}`;

  useEffect(() => {
    const element = box.current!;
    const bins = x.length;
    // Bars of several series sit side by side in their bin: each takes an equal slice, aligned
    // left of, on or right of the bin's centre.
    const barWidth = 0.8 / Math.max(1, series.length);
    const barPaths = (index: number) =>
      uPlot.paths.bars!({
        size: [barWidth, 64],
        align: series.length === 1 ? 0 : index < series.length / 2 ? -1 : 1,
      });
    const options: uPlot.Options = {
      width: Math.max(320, element.clientWidth),
      height,
      scales: {
        // Bars: half a bin of room either side, so the outer bars are whole, and y from 0.
        x: bars ? { time: false, range: () => [-0.5, bins - 0.5] } : { time: false },
        y: yLog
          ? { distr: 3 }
          : bars
            ? { range: (_u: uPlot, _min: number, max: number) => [0, max > 0 ? max * 1.05 : 1] }
            : {},
      },
      axes: [
        {
          label: xLabel,
          ...(xTicks
            ? {
                // One label per bin that fits (about 90 px each), on the bins' centres.
                splits: (u: uPlot) => {
                  const every = Math.max(1, Math.ceil(bins / Math.max(1, u.width / 90)));
                  return x.filter((_, i) => i % every === 0);
                },
                values: (_u: uPlot, ticks: number[]) => ticks.map((tick) => xTicks[tick] ?? ''),
              }
            : {}),
        },
        {
          // Wide enough for the longest label (about 7 px a character, plus the tick and gap).
          size: (_u: uPlot, values: string[] | null) =>
            Math.max(64, 24 + 7 * Math.max(0, ...(values ?? []).map((v) => v.length))),
          values: yLog ? logTicks : linearTicks,
        },
      ],
      series: [
        { label: xLabel },
        ...series.map((s, index) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          ...(bars
            ? { fill: `${s.color}99`, paths: barPaths(index), points: { show: false } }
            : {}),
        })),
      ],
    };
    plot.current = new uPlot(
      options,
      [x, ...series.map((s) => s.values)] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(320, element.clientWidth), height }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the chart's shape changes; data changes go through setData below.
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData([x, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [x, series]);

  return <div class="chart" ref={box} role="img" aria-label={title} />;
}

/** Colours that stay apart for the common kinds of colour blindness (Okabe–Ito). */
export const COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00'];

type Ticks = (
  u: uPlot,
  splits: (number | null)[],
  axis: number,
  space: number,
  incr: number,
) => string[];

/** Labels with as many decimals as the tick step needs, so neighbouring labels differ. */
const linearTicks: Ticks = (_u, splits, _axis, _space, incr) => {
  const largest = Math.max(0, ...splits.map((tick) => Math.abs(tick ?? 0)));
  // Exponent notation where plain digits would be long: 7.2e9 rather than 7,200,000,000.
  const exponent = largest >= 1e6 || (largest > 0 && largest < 1e-3);
  return splits.map((tick) => {
    if (tick === null) return '';
    if (tick === 0) return '0';
    if (!exponent) {
      const digits = decimals(incr);
      return tick.toLocaleString('en', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      });
    }
    let power = Math.floor(Math.log10(Math.abs(tick)));
    let digits = decimals(incr / 10 ** power);
    if (Math.abs(Number((tick / 10 ** power).toFixed(digits))) >= 10) {
      power += 1;
      digits = decimals(incr / 10 ** power);
    }
    return `${(tick / 10 ** power).toFixed(digits)}e${power}`;
  });
};

/** On a log axis only the powers of ten are labelled; the minor ticks stay unlabelled. */
const logTicks: Ticks = (_u, splits) =>
  splits.map((tick) => {
    if (tick === null || tick <= 0) return '';
    const power = Math.round(Math.log10(tick));
    if (Math.abs(tick / 10 ** power - 1) > 1e-9) return '';
    return power >= 6 || power < -3 ? `1e${power}` : (10 ** power).toLocaleString('en');
  });

/** The fewest decimals that show a step exactly (0.25: 2; 5: 0). */
function decimals(step: number): number {
  for (let digits = 0; digits < 15; digits++) {
    const scaled = step * 10 ** digits;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6 * Math.max(1, scaled)) return digits;
  }
  return 15;
}
