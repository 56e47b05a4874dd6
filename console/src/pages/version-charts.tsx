import { useMemo } from 'preact/hooks';
import { Chart, COLORS } from '../components/chart';
import { num } from '../format';

/** Labels of the bins a profile's interior edges make: bin i holds (edges[i-1], edges[i]]. */
export function binLabels(edges: number[]): string[] {
  if (edges.length === 0) return ['all'];
  return [
    `≤ ${num(edges[0], 3)}`,
    ...edges.slice(1).map((edge, i) => `${num(edges[i], 3)} – ${num(edge, 3)}`),
    `> ${num(edges[edges.length - 1], 3)}`,
  ];
}

export interface HistogramSeries {
  label: string;
  values: number[];
}

/**
 * Bars over named bins, with the figures in a table under it (the chart is a picture; the table
 * is what a screen reader or a copy-paste gets).
 */
export function Histogram({
  title,
  labels,
  series,
  unit,
  binName = 'Bin',
}: {
  title: string;
  labels: string[];
  series: HistogramSeries[];
  /** How values read in the table: shares as percentages, or counts. */
  unit: 'share' | 'count';
  binName?: string;
}) {
  const x = useMemo(() => labels.map((_, i) => i), [labels]);
  const chartSeries = useMemo(
    () =>
      series.map((s, i) => ({
        label: s.label,
        values: s.values,
        color: COLORS[i % COLORS.length],
      })),
    [series],
  );
  const show = (value: number) => (unit === 'share' ? `${num(value * 100, 3)} %` : num(value));
  return (
    <figure class="histogram">
      <Chart title={title} x={x} xLabel={binName} series={chartSeries} bars xTicks={labels} />
      <details>
        <summary>Figures</summary>
        <table class="small">
          <caption class="visually-hidden">{title}</caption>
          <thead>
            <tr>
              <th scope="col">{binName}</th>
              {series.map((s) => (
                <th scope="col" class="number" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((label, i) => (
              <tr key={label}>
                <th scope="row">{label}</th>
                {series.map((s) => (
                  <td class="number" key={s.label}>
                    {show(s.values[i] ?? 0)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
