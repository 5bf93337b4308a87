import { Module } from '@nestjs/common';
import { CacheIndexService } from './cache-index.service';
import { SchedulerController } from './scheduler.controller';
import { SchedulerService } from './scheduler.service';
import { VersionCatalogService } from './version-catalog.service';

/** The cache-aware kube-scheduler extender (docs/scheduling.md). */
@Module({
  controllers: [SchedulerController],
  providers: [CacheIndexService, VersionCatalogService, SchedulerService],
})
export class SchedulerModule {}
