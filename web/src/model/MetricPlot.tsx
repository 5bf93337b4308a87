import { useId, useState } from 'react';
import type { Version } from '../api/client';
import { Section } from '../components/ui';
import { formatMetric, metricNames, metricsOf } from './metrics';

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { left: 56, right: 16, top: 12, bottom: 28 };

/** One metric across the versions on screen, as a small SVG line: no chart library needed. */
export function MetricPlot({ versions }: { versions: Version[] }) {
  const names = metricNames(versions);
  const [chosen, setChosen] = useState<string | null>(null);
  const id = useId();
  const metric = chosen && names.includes(chosen) ? chosen : names[0];
  if (!metric) return null;
  const points = versions
    .map((version) => ({ x: version.number, y: metricsOf(version)[metric] }))
    .filter((point): point is { x: number; y: number } => point.y !== undefined)
    .sort((p, q) => p.x - q.x);
  if (points.length === 0) return null;
  const [minX, maxX] = [points[0].x, points[points.length - 1].x];
  const ys = points.map((point) => point.y);
  const [minY, maxY] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x: number) => PAD.left + (maxX === minX ? 0.5 : (x - minX) / (maxX - minX)) * (WIDTH - PAD.left - PAD.right);
  const sy = (y: number) => PAD.top + (maxY === minY ? 0.5 : 1 - (y - minY) / (maxY - minY)) * (HEIGHT - PAD.top - PAD.bottom);
  const line = points.map((point) => `${sx(point.x).toFixed(1)},${sy(point.y).toFixed(1)}`).join(' ');
  const best = points.reduce((top, point) => (point.y > top.y ? point : top));
  return (
    <Section
      title="Metric across versions"
      actions={
        <span>
          <label htmlFor={id}>Metric </label>
          <select id={id} value={metric} onChange={(event) => setChosen(event.target.value)}>
            {names.map((name) => <option key={name}>{name}</option>)}
          </select>
        </span>
      }
    >
      <svg className="plot" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-title`}>
        <title id={`${id}-title`}>
          {metric} from @{minX} to @{maxX}: lowest {formatMetric(minY)}, highest {formatMetric(maxY)} at @{best.x}
        </title>
        <line x1={PAD.left} y1={HEIGHT - PAD.bottom} x2={WIDTH - PAD.right} y2={HEIGHT - PAD.bottom} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={HEIGHT - PAD.bottom} className="axis" />
        <text x={PAD.left - 6} y={PAD.top + 10} textAnchor="end" className="tick">{formatMetric(maxY)}</text>
        <text x={PAD.left - 6} y={HEIGHT - PAD.bottom} textAnchor="end" className="tick">{formatMetric(minY)}</text>
        <text x={PAD.left} y={HEIGHT - 8} className="tick">@{minX}</text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end" className="tick">@{maxX}</text>
        <polyline points={line} className="series" />
        {points.map((point) => (
          <circle key={point.x} cx={sx(point.x)} cy={sy(point.y)} r={3.5} className={point === best ? 'dot best' : 'dot'}>
            <title>@{point.x}: {formatMetric(point.y)}</title>
          </circle>
        ))}
      </svg>
    </Section>
  );
}
