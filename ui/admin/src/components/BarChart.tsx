/**
 * A horizontal bar chart in SVG: one bar per label, scaled to the largest value, with the
 * value written at the end of each bar. Drawn by the page itself (no chart library, nothing
 * fetched from elsewhere: the Content-Security-Policy allows only this server).
 */
export interface Bar {
  label: string;
  value: number;
  text: string;
}

const ROW = 28;
const LABEL_W = 180;
const BAR_W = 520;
const VALUE_W = 140;

export function BarChart({ bars, title, testId }: { bars: Bar[]; title: string; testId?: string }) {
  const top = Math.max(1, ...bars.map((b) => Math.abs(b.value)));
  const height = Math.max(ROW, bars.length * ROW);
  return (
    <svg
      className="chart"
      role="img"
      aria-label={title}
      data-testid={testId}
      viewBox={`0 0 ${LABEL_W + BAR_W + VALUE_W} ${height}`}
      width="100%"
      preserveAspectRatio="xMinYMin meet"
    >
      {bars.map((b, i) => {
        const w = (BAR_W * Math.abs(b.value)) / top;
        const y = i * ROW;
        return (
          <g key={`${b.label}-${i}`} data-testid="chart-bar">
            <text x={LABEL_W - 8} y={y + ROW / 2 + 5} textAnchor="end" className="chart-label">
              {b.label.length > 24 ? `${b.label.slice(0, 23)}…` : b.label}
            </text>
            <rect x={LABEL_W} y={y + 5} width={Math.max(w, 1)} height={ROW - 10} rx="3" className={b.value < 0 ? 'chart-bar chart-bar-negative' : 'chart-bar'} />
            <text x={LABEL_W + w + 6} y={y + ROW / 2 + 5} className="chart-value">
              {b.text}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
