import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentAuth } from '../auth/access.decorator';
import { AuthContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { AuditQueryService } from './audit-query.service';
import { AuditPageDto, ListAuditQuery } from './dto/audit.dto';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(@Inject(AuditQueryService) private readonly audit: AuditQueryService) {}

  @Get()
  @Authenticated()
  @ApiOperation({
    summary: 'Audit events, newest first, filtered by project, actor, action and time; cursor-paginated',
    description: 'The platform admin sees every event; project admins see the events of their projects; others get an empty list.',
  })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiProblems('validation_failed', 'invalid_name', 'invalid_cursor', 'forbidden', 'project_not_found')
  list(@CurrentAuth() auth: AuthContext, @Query() query: ListAuditQuery): Promise<AuditPageDto> {
    return this.audit.list(auth, query);
  }
}
