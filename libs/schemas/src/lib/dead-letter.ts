/**
 * Message of the dead-letter topic: one operation that can never be
 * delivered, with the reason. The replay command sends `operation` back to
 * the operations topic once the cause is fixed.
 */
export interface DeadLetter {
  /** Site id, when the failed message named one. */
  workspace: string | undefined;
  /** The original operation, or the raw message text when it was not valid JSON. */
  operation: unknown;
  error: DeadLetterError;
  /** Delivery attempts made before giving up; 0 when it was never sent. */
  attempts: number;
  /** Unix milliseconds. */
  failedAt: number;
  stage: 'batcher' | 'sender';
  /** Where the message was read from. */
  source: { topic: string; partition: number; offset: string };
}

export interface DeadLetterError {
  /** Customer.io's reason, or one of the pipeline's own: invalid_message, too_large, retries_exhausted. */
  reason: string;
  message: string;
  field?: string;
  /** HTTP status of Customer.io's answer, when there was one. */
  status?: number;
}
