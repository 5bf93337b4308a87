import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { EndpointsController } from './endpoints.controller';
import { EndpointsService } from './endpoints.service';

@Module({ imports: [ModelsModule], controllers: [EndpointsController], providers: [EndpointsService], exports: [EndpointsService] })
export class EndpointsModule {}
