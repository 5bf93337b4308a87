import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { WarmupsModule } from '../warmups/warmups.module';
import { CacheEntriesRepository } from './cache-entries.repository';
import { DemandsService } from './demands.service';
import { HeartbeatService } from './heartbeat.service';
import { LocationsController, NodesController } from './nodes.controller';
import { NodesRepository } from './nodes.repository';
import { NodesService } from './nodes.service';
import { PlacementService } from './placement.service';

@Module({
  imports: [ModelsModule, WarmupsModule],
  controllers: [NodesController, LocationsController],
  providers: [NodesService, HeartbeatService, PlacementService, DemandsService, NodesRepository, CacheEntriesRepository],
})
export class NodesModule {}
