import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MetricsController } from '@cio-pipeline/health';
import { WorkspaceAuthService } from './auth/workspace-auth.service';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config';
import { HealthController } from './health/health.controller';
import { TrackGrpcController } from './grpc/track.grpc.controller';
import { IngestService } from './ingest/ingest.service';
import { TrackApiService } from './ingest/track-api.service';

@Module({})
export class AppModule {
  static register(config: GatewayConfig) {
    return {
      module: AppModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [TrackGrpcController, HealthController, MetricsController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        WorkspaceAuthService,
        IngestService,
        TrackApiService,
      ],
    };
  }
}
