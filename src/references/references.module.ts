import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { ResolveController } from './resolve.controller';
import { ResolveService } from './resolve.service';

@Module({ imports: [ModelsModule], controllers: [ResolveController], providers: [ResolveService], exports: [ResolveService] })
export class ReferencesModule {}
