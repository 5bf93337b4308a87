import { Module } from '@nestjs/common';
import { FilesModule } from '../files/files.module';
import { ModelsModule } from '../models/models.module';
import { UploadsController } from './uploads.controller';
import { UploadsService } from './uploads.service';

@Module({ imports: [ModelsModule, FilesModule], controllers: [UploadsController], providers: [UploadsService] })
export class UploadsModule {}
