import { Module } from '@nestjs/common';
import { MembersService } from './members.service';
import { ProjectsController } from './projects.controller';
import { ProjectsService } from './projects.service';
import { QuotaController } from './quota.controller';
import { QuotaService } from './quota.service';

@Module({ controllers: [ProjectsController, QuotaController], providers: [ProjectsService, MembersService, QuotaService] })
export class ProjectsModule {}
