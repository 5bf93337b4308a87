import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { WarmupsModule } from '../warmups/warmups.module';
import { LocationsController, NodesController } from './nodes.controller';
import { NodesService } from './nodes.service';

@Module({ imports: [ModelsModule, WarmupsModule], controllers: [NodesController, LocationsController], providers: [NodesService] })
export class NodesModule {}
