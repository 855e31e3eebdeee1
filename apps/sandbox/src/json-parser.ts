import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-errors';

/**
 * Replaces Fastify's body parsers with one that parses every body as JSON, whatever its
 * content type, and records its size in `request.bodyBytes`. An empty body becomes
 * undefined. Invalid JSON gets a 400 response.
 */
export function installJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const buffer = body as Buffer;
    request.bodyBytes = buffer.length;
    if (buffer.length === 0) {
      done(null, undefined);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(buffer.toString('utf8'));
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      done(new HttpError(400, `request body is not valid JSON: ${detail}`), undefined);
      return;
    }
    done(null, parsed);
  });
}
