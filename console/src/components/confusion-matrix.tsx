import { num } from '../format';
import './confusion-matrix.css';

export interface Confusion {
  matrix: number[][];
  classes: (string | number)[];
}

/** A classifier's split metrics hold its confusion matrix and classes; other models' do not. */
export function confusionOf(metrics: Record<string, unknown>): Confusion | null {
  const { confusionMatrix, classes } = metrics;
  if (!Array.isArray(confusionMatrix) || !Array.isArray(classes)) return null;
  return { matrix: confusionMatrix as number[][], classes: classes as (string | number)[] };
}

/** Counts by actual (rows) and predicted (columns) class, each cell shaded by its share of the row. */
export function ConfusionMatrix({ split, matrix, classes }: { split: string } & Confusion) {
  return (
    <div class="table-scroll" tabIndex={0} role="region" aria-label={`Confusion matrix, ${split}`}>
      <table class="confusion">
        <caption>
          {split}: actual (rows) × predicted (columns),{' '}
          {num(matrix.flat().reduce((a, b) => a + b, 0))} rows
        </caption>
        <thead>
          <tr>
            <td class="corner">
              <span class="small muted">actual ↓ predicted →</span>
            </td>
            {classes.map((label) => (
              <th scope="col" key={String(label)}>
                {String(label)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, a) => {
            const total = row.reduce((sum, count) => sum + count, 0);
            return (
              <tr key={a}>
                <th scope="row">{String(classes[a])}</th>
                {row.map((count, p) => {
                  const share = total > 0 ? count / total : 0;
                  return (
                    <td
                      key={p}
                      class={`number cell${a === p ? ' diagonal' : ''}`}
                      style={shade(share)}
                    >
                      {num(count)}
                      <span class="share">{num(share * 100, 3)} %</span>
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** How to read the matrices, once under them. */
export function ConfusionLegend() {
  return (
    <p class="hint">
      Rows: the actual class; columns: the predicted one. A cell is shaded by its share of the row,
      so the diagonal is each class's recall.
    </p>
  );
}

/**
 * White to dark blue by share; the text black or white, whichever keeps 4.5:1 (one of the two
 * always does: the crossing is at a luminance of about 0.18).
 */
function shade(share: number): Record<string, string> {
  const from = [255, 255, 255];
  const to = [8, 48, 107];
  const rgb = from.map((c, i) => Math.round(c + (to[i] - c) * share));
  const linear = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
  return {
    backgroundColor: `rgb(${rgb.join(', ')})`,
    color: luminance > 0.179 ? '#000000' : '#ffffff',
  };
}
