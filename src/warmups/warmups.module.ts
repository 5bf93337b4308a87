import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { ReferencesModule } from '../references/references.module';
import { WarmupResolver } from './warmup-resolver';
import { WarmupsController } from './warmups.controller';
import { WarmupAssignmentsRepository } from './warmup-assignments.repository';
import { WarmupsRepository } from './warmups.repository';
import { WarmupsService } from './warmups.service';

@Module({
  imports: [ModelsModule, ReferencesModule],
  controllers: [WarmupsController],
  providers: [WarmupsService, WarmupResolver, WarmupsRepository, WarmupAssignmentsRepository],
  exports: [WarmupsService, WarmupsRepository, WarmupAssignmentsRepository],
})
export class WarmupsModule {}
