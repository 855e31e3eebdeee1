/** A line of a chart panel. */
export interface Series {
  label: string;
  points: readonly { x: number; y: number }[];
  /** Drawn dashed, for limits and baselines. */
  dashed?: boolean;
}

/** One line chart; panels are stacked top to bottom. */
export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const WIDTH = 960;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 80, right: 250, top: 50, bottom: 50 };
const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
];

/** Renders stacked line charts as a standalone SVG document. */
export function renderChart(title: string, panels: readonly Panel[]): string {
  const height = 40 + panels.length * PANEL_HEIGHT;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  panels.forEach((panel, index) => {
    parts.push(renderPanel(panel, 40 + index * PANEL_HEIGHT));
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function renderPanel(panel: Panel, top: number): string {
  const plot = {
    left: MARGIN.left,
    top: top + MARGIN.top,
    width: WIDTH - MARGIN.left - MARGIN.right,
    height: PANEL_HEIGHT - MARGIN.top - MARGIN.bottom,
  };
  const points = panel.series.flatMap((series) => series.points);
  const xTicks = niceTicks(Math.max(1, ...points.map((point) => point.x)));
  const yTicks = niceTicks(Math.max(1, ...points.map((point) => point.y)));
  const xMax = xTicks[xTicks.length - 1] ?? 1;
  const yMax = yTicks[yTicks.length - 1] ?? 1;
  const toX = (x: number) => plot.left + (x / xMax) * plot.width;
  const toY = (y: number) => plot.top + plot.height - (y / yMax) * plot.height;

  const parts = [
    `<text x="${plot.left}" y="${top + 30}" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`,
  ];
  for (const tick of yTicks) {
    const y = toY(tick).toFixed(1);
    parts.push(
      `<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${y}" y2="${y}" stroke="#e0e0e0"/>`,
      `<text x="${plot.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(tick)}</text>`,
    );
  }
  for (const tick of xTicks) {
    const x = toX(tick).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${plot.top + plot.height}" y2="${plot.top + plot.height + 4}" stroke="#333333"/>`,
      `<text x="${x}" y="${plot.top + plot.height + 16}" text-anchor="middle">${formatTick(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.width}" height="${plot.height}" fill="none" stroke="#333333"/>`,
    `<text x="${plot.left + plot.width / 2}" y="${plot.top + plot.height + 36}" text-anchor="middle">${escapeXml(panel.xLabel)}</text>`,
    `<text transform="translate(${plot.left - 60} ${plot.top + plot.height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(panel.yLabel)}</text>`,
  );

  panel.series.forEach((series, index) => {
    const color = COLORS[index % COLORS.length] ?? '#000000';
    const dash = series.dashed === true ? ' stroke-dasharray="6 4"' : '';
    const path = series.points
      .map((point) => `${toX(point.x).toFixed(1)},${toY(point.y).toFixed(1)}`)
      .join(' ');
    if (series.points.length > 0) {
      parts.push(
        `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`,
      );
    }
    const legendY = plot.top + 8 + index * 18;
    const legendX = plot.left + plot.width + 16;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 22}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${legendX + 28}" y="${legendY}" dominant-baseline="middle">${escapeXml(series.label)}</text>`,
    );
  });
  return parts.join('\n');
}

/** Tick values from 0 to at least `max`, at a step of 1, 2 or 5 times a power of ten. */
export function niceTicks(max: number, count = 5): number[] {
  const rough = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step =
    [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ??
    10 * magnitude;
  const ticks: number[] = [];
  for (let value = 0; value < max + step; value += step) {
    ticks.push(Number(value.toPrecision(12)));
  }
  return ticks;
}

function formatTick(value: number): string {
  if (value >= 1_000_000) {
    return `${value / 1_000_000}M`;
  }
  if (value >= 10_000) {
    return `${value / 1000}k`;
  }
  return String(value);
}

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
