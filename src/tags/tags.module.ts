import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { TagWriter } from './tag-writer';
import { TagsController } from './tags.controller';
import { TagsService } from './tags.service';

@Module({ imports: [ModelsModule], controllers: [TagsController], providers: [TagsService, TagWriter], exports: [TagWriter] })
export class TagsModule {}
