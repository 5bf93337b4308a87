import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module';
import { ModelsModule } from '../models/models.module';
import { ResolveController } from './resolve.controller';
import { ResolveService } from './resolve.service';

@Module({ imports: [ModelsModule, EndpointsModule], controllers: [ResolveController], providers: [ResolveService], exports: [ResolveService] })
export class ReferencesModule {}
