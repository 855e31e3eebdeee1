import { metricsRegistry } from '@cio-pipeline/health';
import { countOperations, countResponse } from './gateway-metrics';

/** Returns the sample lines of metric `name`, each a whole line. */
async function sample(name: string): Promise<string[]> {
  const text = await metricsRegistry.metrics();
  return text.split('\n').filter((line) => line.startsWith(`${name}{`));
}

describe('gateway counters', () => {
  it('adds pending responses at each scrape', async () => {
    countResponse('/api/v2/batch', 200);
    countResponse('/api/v2/batch', 200);
    countResponse('/api/v2/batch', 207);
    const first = await sample('cio_gateway_requests_total');
    expect(first).toContainEqual(
      'cio_gateway_requests_total{route="/api/v2/batch",status="200"} 2',
    );
    expect(first).toContainEqual(
      'cio_gateway_requests_total{route="/api/v2/batch",status="207"} 1',
    );

    countResponse('/api/v2/batch', 200);
    const second = await sample('cio_gateway_requests_total');
    expect(second).toContainEqual(
      'cio_gateway_requests_total{route="/api/v2/batch",status="200"} 3',
    );
    expect(second).toContainEqual(
      'cio_gateway_requests_total{route="/api/v2/batch",status="207"} 1',
    );
  });

  it('keeps workspaces and results apart', async () => {
    countOperations('site-a', 'accepted', 5);
    countOperations('site-b', 'accepted', 2);
    countOperations('site-a', 'rejected', 1);
    const text = await sample('cio_gateway_operations_total');
    expect(text).toContainEqual(
      'cio_gateway_operations_total{workspace="site-a",result="accepted"} 5',
    );
    expect(text).toContainEqual(
      'cio_gateway_operations_total{workspace="site-b",result="accepted"} 2',
    );
    expect(text).toContainEqual(
      'cio_gateway_operations_total{workspace="site-a",result="rejected"} 1',
    );
  });
});
