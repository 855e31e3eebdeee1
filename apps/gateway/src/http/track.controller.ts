import { Body, Controller, Delete, HttpCode, Param, Post, Put, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  fromAddDevice,
  fromDeleteDevice,
  fromIdentify,
  fromMerge,
  fromPersonAction,
  fromTrack,
  checkOperation,
} from '@cio-pipeline/schemas';
import { TrackApiService, type ParseCall } from '../ingest/track-api.service';
import { partialFailureBody } from './track-api-error';

type Request = FastifyRequest & { rawBody?: Buffer };

/**
 * Customer.io's Track API, v1 and v2, at Customer.io's paths. Every call is
 * authenticated, checked against Customer.io's limits, converted to v2
 * operations and answered only after Kafka acknowledged them.
 */
@Controller('api')
export class TrackController {
  constructor(private readonly track: TrackApiService) {}

  @Put('v1/customers/:identifier')
  @HttpCode(200)
  identify(
    @Req() request: Request,
    @Param('identifier') identifier: string,
    @Body() body: unknown,
  ) {
    return this.accept(request, (options) => fromIdentify(identifier, body, options));
  }

  @Delete('v1/customers/:identifier')
  @HttpCode(200)
  deletePerson(@Req() request: Request, @Param('identifier') identifier: string) {
    return this.accept(request, (options) => fromPersonAction(identifier, 'delete', options));
  }

  @Post('v1/customers/:identifier/events')
  @HttpCode(200)
  trackEvent(
    @Req() request: Request,
    @Param('identifier') identifier: string,
    @Body() body: unknown,
  ) {
    return this.accept(request, (options) => fromTrack(identifier, body, options));
  }

  @Post('v1/events')
  @HttpCode(200)
  trackAnonymous(@Req() request: Request, @Body() body: unknown) {
    return this.accept(request, (options) => fromTrack(undefined, body, options));
  }

  @Put('v1/customers/:identifier/devices')
  @HttpCode(200)
  addDevice(
    @Req() request: Request,
    @Param('identifier') identifier: string,
    @Body() body: unknown,
  ) {
    return this.accept(request, (options) => fromAddDevice(identifier, body, options));
  }

  @Delete('v1/customers/:identifier/devices/:deviceId')
  @HttpCode(200)
  deleteDevice(
    @Req() request: Request,
    @Param('identifier') identifier: string,
    @Param('deviceId') deviceId: string,
  ) {
    return this.accept(request, (options) => fromDeleteDevice(identifier, deviceId, options));
  }

  @Post('v1/customers/:identifier/suppress')
  @HttpCode(200)
  suppress(@Req() request: Request, @Param('identifier') identifier: string) {
    return this.accept(request, (options) => fromPersonAction(identifier, 'suppress', options));
  }

  @Post('v1/customers/:identifier/unsuppress')
  @HttpCode(200)
  unsuppress(@Req() request: Request, @Param('identifier') identifier: string) {
    return this.accept(request, (options) => fromPersonAction(identifier, 'unsuppress', options));
  }

  @Post('v1/merge_customers')
  @HttpCode(200)
  merge(@Req() request: Request, @Body() body: unknown) {
    return this.accept(request, (options) => fromMerge(body, options));
  }

  @Post('v2/entity')
  @HttpCode(200)
  entity(@Req() request: Request, @Body() body: unknown) {
    return this.accept(request, (options) => checkOperation(body, options));
  }

  @Post('v2/batch')
  async batch(
    @Req() request: Request,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() body: unknown,
  ): Promise<object> {
    const bodyBytes = request.rawBody?.length ?? 0;
    const authorization = request.headers.authorization;
    const result = await this.track.acceptBatch(
      authorization,
      body,
      bodyBytes,
      requestIdOf(request),
    );
    if (result.errors.length > 0) {
      void reply.status(207);
      return partialFailureBody(result.errors);
    }
    void reply.status(200);
    return {};
  }

  private async accept(request: Request, parse: ParseCall): Promise<object> {
    await this.track.acceptOne(request.headers.authorization, parse, requestIdOf(request));
    return {};
  }
}

function requestIdOf(request: FastifyRequest): string {
  const header = request.headers['x-request-id'];
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && /^[\w.:-]{1,128}$/.test(given) ? given : request.id;
}
