import { HttpException, HttpStatus } from '@nestjs/common';
import type { BatchItemError, FieldError } from '@cio-pipeline/schemas';

/**
 * An error answered in Customer.io's Track API shape: `{"meta": {"error": ...}}`
 * for one problem or `{"meta": {"errors": [...]}}` for several.
 */
export class TrackApiError extends HttpException {
  constructor(
    status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super({ meta: { error: message } }, status);
  }

  static unauthorized(message: string): TrackApiError {
    return new TrackApiError(HttpStatus.UNAUTHORIZED, message);
  }

  static invalid(error: FieldError): TrackApiError {
    const where = error.field === '' ? '' : `${error.field}: `;
    const message = error.message.startsWith(error.field)
      ? error.message
      : `${where}${error.message}`;
    return new TrackApiError(HttpStatus.BAD_REQUEST, message);
  }

  static unavailable(message: string, retryAfterSeconds: number): TrackApiError {
    return new TrackApiError(HttpStatus.SERVICE_UNAVAILABLE, message, {
      'retry-after': String(retryAfterSeconds),
    });
  }
}

/** Body of a 207 answer to a partly invalid `/api/v2/batch` request. */
export function partialFailureBody(errors: BatchItemError[]): { errors: BatchItemError[] } {
  return { errors };
}
