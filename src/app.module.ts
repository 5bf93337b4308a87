import { DynamicModule, Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { EndpointsModule } from './endpoints/endpoints.module';
import { TokenReviewModule } from './token-review/token-review.module';
import { TokensModule } from './tokens/tokens.module';
import { QuotaModule } from './quota/quota.module';
import { BlobsModule } from './blobs/blobs.module';
import { WHARF_CONFIG, WharfConfig } from './config/config';
import { EventsModule } from './events/events.module';
import { HealthController } from './health/health.controller';
import { InvalidationModule } from './invalidation/invalidation.module';
import { ModelsModule } from './models/models.module';
import { NodesModule } from './nodes/nodes.module';
import { METRICS, Metrics } from './observability/metrics';
import { ProjectsModule } from './projects/projects.module';
import { ReferencesModule } from './references/references.module';
import { TagsModule } from './tags/tags.module';
import { RateLimitModule } from './ratelimit/rate-limit.module';
import { VersionsModule } from './versions/versions.module';
import { StorageModule } from './storage/storage.module';
import { FilesModule } from './files/files.module';
import { UploadsModule } from './uploads/uploads.module';
import { GcModule } from './gc/gc.module';
import { WarmupsModule } from './warmups/warmups.module';
import { SchedulerModule } from './scheduler/scheduler.module';

/** Process-wide values made before Nest starts: the config, the open database, the metrics. */
@Global()
@Module({})
class CoreModule {
  static register(config: WharfConfig, dataSource: DataSource, metrics: Metrics): DynamicModule {
    const providers = [
      { provide: WHARF_CONFIG, useValue: config },
      { provide: DataSource, useValue: dataSource },
      { provide: METRICS, useValue: metrics },
    ];
    return { module: CoreModule, providers, exports: providers.map((provider) => provider.provide) };
  }
}

@Module({})
export class AppModule {
  static register(config: WharfConfig, dataSource: DataSource, metrics: Metrics): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.register(config, dataSource, metrics),
        // Before AuthModule: its guard must run before the access guard (see RateLimitGuard).
        RateLimitModule,
        AuditModule,
        InvalidationModule,
        AuthModule,
        TokensModule,
        TokenReviewModule,
        EventsModule,
        ProjectsModule,
        QuotaModule,
        ModelsModule,
        VersionsModule,
        TagsModule,
        ReferencesModule,
        EndpointsModule,
        StorageModule,
        BlobsModule,
        FilesModule,
        UploadsModule,
        GcModule,
        WarmupsModule,
        NodesModule,
        SchedulerModule,
      ],
      controllers: [HealthController],
    };
  }
}
