import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentActor, CurrentAuth, CurrentProject, PlatformAdmin, ProjectAccess } from '../auth/access.decorator';
import { Actor, AuthContext, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import {
  CreateProjectDto,
  ListProjectsQuery,
  MemberDto,
  MemberListDto,
  ProjectDto,
  ProjectPageDto,
  PutMemberDto,
  UpdateProjectDto,
} from './dto/project.dto';
import { MembersService } from './members.service';
import { ProjectsService } from './projects.service';

@ApiTags('projects')
@Controller('api/v1/projects')
export class ProjectsController {
  constructor(
    @Inject(ProjectsService) private readonly projects: ProjectsService,
    @Inject(MembersService) private readonly members: MembersService,
  ) {}

  @Post()
  @PlatformAdmin()
  @ApiOperation({ summary: 'Create a project (a tenant; its name is the Kubernetes namespace)' })
  @ApiCreatedResponse({ type: ProjectDto })
  @ApiProblems('validation_failed', 'invalid_name', 'project_exists')
  create(@CurrentAuth() auth: AuthContext, @CurrentActor() actor: Actor, @Body() body: CreateProjectDto): Promise<ProjectDto> {
    return this.projects.create(auth, actor, body);
  }

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'List the projects the caller has a role in' })
  @ApiOkResponse({ type: ProjectPageDto })
  @ApiProblems('validation_failed', 'invalid_cursor')
  list(@CurrentAuth() auth: AuthContext, @Query() query: ListProjectsQuery): Promise<ProjectPageDto> {
    return this.projects.list(auth, query);
  }

  @Get(':project')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'Show a project' })
  @ApiOkResponse({ type: ProjectDto })
  @ApiProblems('invalid_name')
  get(@CurrentProject() project: ProjectContext): Promise<ProjectDto> {
    return this.projects.get(project);
  }

  @Patch(':project')
  @ProjectAccess('admin')
  @ApiOperation({ summary: "Change a project's description or labels" })
  @ApiOkResponse({ type: ProjectDto })
  @ApiProblems('validation_failed', 'invalid_name')
  update(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Body() body: UpdateProjectDto): Promise<ProjectDto> {
    return this.projects.update(project, actor, body);
  }

  @Delete(':project')
  @HttpCode(204)
  @ProjectAccess('admin')
  @ApiOperation({ summary: 'Delete an empty project' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems('invalid_name', 'project_not_empty')
  remove(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor): Promise<void> {
    return this.projects.remove(project, actor);
  }

  @Get(':project/members')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: 'List project members and their roles' })
  @ApiOkResponse({ type: MemberListDto })
  @ApiProblems('invalid_name')
  listMembers(@CurrentProject() project: ProjectContext): Promise<MemberListDto> {
    return this.members.list(project);
  }

  @Get(':project/members/:principal')
  @ProjectAccess('viewer')
  @ApiOperation({ summary: "Show a member's role" })
  @ApiOkResponse({ type: MemberDto })
  @ApiProblems('invalid_name', 'member_not_found')
  getMember(@CurrentProject() project: ProjectContext, @Param('principal') principal: string): Promise<MemberDto> {
    return this.members.get(project, principal);
  }

  @Put(':project/members/:principal')
  @ProjectAccess('admin')
  @ApiOperation({ summary: 'Add a member or change their role' })
  @ApiOkResponse({ type: MemberDto })
  @ApiProblems('validation_failed', 'invalid_name', 'last_admin')
  putMember(
    @CurrentProject() project: ProjectContext,
    @CurrentActor() actor: Actor,
    @Param('principal') principal: string,
    @Body() body: PutMemberDto,
  ): Promise<MemberDto> {
    return this.members.put(project, actor, principal, body.role);
  }

  @Delete(':project/members/:principal')
  @HttpCode(204)
  @ProjectAccess('admin')
  @ApiOperation({ summary: 'Remove a member (never the last admin)' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems('invalid_name', 'member_not_found', 'last_admin')
  removeMember(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Param('principal') principal: string): Promise<void> {
    return this.members.remove(project, actor, principal);
  }
}
