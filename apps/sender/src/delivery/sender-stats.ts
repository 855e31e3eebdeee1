import { Injectable } from '@nestjs/common';
import { senderMetrics } from '../metrics/sender-metrics';

/** Counters of the sender's work since start, for health, reports and Prometheus. */
@Injectable()
export class SenderStats {
  requests = 0;
  delivered = 0;
  deadLettered = 0;
  retries = 0;
  splits = 0;
  transportErrors = 0;
  readonly statuses: Record<string, number> = {};

  snapshot() {
    const { requests, delivered, deadLettered, retries, splits, transportErrors, statuses } = this;
    return {
      requests,
      delivered,
      deadLettered,
      retries,
      splits,
      transportErrors,
      statuses: { ...statuses },
    };
  }

  requestSent(bytes: number, operations: number): void {
    this.requests += 1;
    senderMetrics.requestBytes.observe(bytes);
    senderMetrics.requestOperations.observe(operations);
  }

  answered(workspace: string, status: number): void {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    senderMetrics.requests.inc({ workspace, status: String(status) });
    if (status === 429) {
      senderMetrics.throttled.inc({ workspace });
    }
  }

  noAnswer(workspace: string): void {
    this.transportErrors += 1;
    senderMetrics.requests.inc({ workspace, status: '0' });
  }

  /** Counts operations Customer.io accepted; `oldestAcceptedAt` is unix ms at the gateway. */
  operationsDelivered(
    workspace: string,
    count: number,
    oldestAcceptedAt: number | undefined,
  ): void {
    this.delivered += count;
    senderMetrics.delivered.inc({ workspace }, count);
    if (oldestAcceptedAt !== undefined && count > 0) {
      senderMetrics.deliveryLatency.observe((Date.now() - oldestAcceptedAt) / 1000);
    }
  }

  operationsDeadLettered(workspace: string, reason: string, count: number): void {
    this.deadLettered += count;
    senderMetrics.deadLetters.inc({ workspace, reason }, count);
  }

  retried(workspace: string, reason: string): void {
    this.retries += 1;
    senderMetrics.retries.inc({ workspace, reason });
  }

  split(): void {
    this.splits += 1;
  }
}
