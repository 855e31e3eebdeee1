import { Injectable } from '@nestjs/common';

/** Counters of the sender's work since start, for health and reports. */
@Injectable()
export class SenderStats {
  requests = 0;
  delivered = 0;
  deadLettered = 0;
  retries = 0;
  splits = 0;
  transportErrors = 0;
  readonly statuses: Record<string, number> = {};

  countStatus(status: number): void {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }
}
