import { escapeXml, niceTicks, renderChart } from './chart';

describe('niceTicks', () => {
  it('uses steps of 1, 2 or 5', () => {
    expect(niceTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(11)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(23_000)).toEqual([0, 5000, 10_000, 15_000, 20_000, 25_000]);
  });
});

describe('renderChart', () => {
  const svg = renderChart('Run <1> & "2"', [
    {
      title: 'Throughput',
      xLabel: 'seconds',
      yLabel: 'events/s',
      series: [
        {
          label: 'gateway',
          points: [
            { x: 1, y: 10 },
            { x: 2, y: 20 },
          ],
        },
        {
          label: 'cap',
          dashed: true,
          points: [
            { x: 0, y: 25 },
            { x: 2, y: 25 },
          ],
        },
        { label: 'empty', points: [] },
      ],
    },
    { title: 'Latency', xLabel: 'seconds', yLabel: 'ms', series: [] },
  ]);

  it('is one SVG document with a panel per chart', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('>Throughput</text>');
    expect(svg).toContain('>Latency</text>');
  });

  it('draws a line per series with points', () => {
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="6 4"');
  });

  it('escapes text', () => {
    expect(svg).toContain('Run &lt;1&gt; &amp; &quot;2&quot;');
    expect(escapeXml('a<b')).toBe('a&lt;b');
  });
});
