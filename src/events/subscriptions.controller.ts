import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, CurrentProject, ProjectAccess } from '../auth/access.decorator';
import { Actor, ProjectContext } from '../auth/auth-context';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { PageQuery } from '../common/pagination/list-query.dto';
import {
  CreatedSubscriptionDto,
  CreateSubscriptionDto,
  DeliveryPageDto,
  ListDeliveriesQuery,
  SubscriptionDto,
  SubscriptionPageDto,
} from './dto/subscription.dto';
import { SubscriptionsService } from './subscriptions.service';
import { ApiPathParams } from '../common/http/api-path-params';

/** Webhook subscriptions are the project admin's: they send project data to outside URLs. */
@ApiTags('events')
@Controller('api/v1/projects/:project/subscriptions')
@ApiPathParams('project')
export class SubscriptionsController {
  constructor(@Inject(SubscriptionsService) private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @ProjectAccess('admin')
  @ApiOperation({ summary: 'Subscribe a URL to events of the project; deliveries are signed with the secret' })
  @ApiCreatedResponse({ type: CreatedSubscriptionDto })
  @ApiProblems('validation_failed', 'invalid_name')
  create(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Body() body: CreateSubscriptionDto): Promise<CreatedSubscriptionDto> {
    return this.subscriptions.create(project, actor, body);
  }

  @Get()
  @ProjectAccess('admin')
  @ApiOperation({ summary: "List the project's webhook subscriptions (never their secrets)" })
  @ApiOkResponse({ type: SubscriptionPageDto })
  @ApiProblems('validation_failed', 'invalid_name', 'invalid_cursor')
  list(@CurrentProject() project: ProjectContext, @Query() query: PageQuery): Promise<SubscriptionPageDto> {
    return this.subscriptions.list(project, query);
  }

  @Get(':id')
  @ProjectAccess('admin')
  @ApiOperation({ summary: 'Show a webhook subscription' })
  @ApiOkResponse({ type: SubscriptionDto })
  @ApiProblems('invalid_name', 'subscription_not_found')
  get(@CurrentProject() project: ProjectContext, @Param('id') id: string): Promise<SubscriptionDto> {
    return this.subscriptions.get(project, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ProjectAccess('admin')
  @ApiOperation({ summary: 'Delete a webhook subscription and its pending deliveries' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems('invalid_name', 'subscription_not_found')
  remove(@CurrentProject() project: ProjectContext, @CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    return this.subscriptions.remove(project, actor, id);
  }

  @Get(':id/deliveries')
  @ProjectAccess('admin')
  @ApiOperation({ summary: 'The delivery log: each event sent to this subscription, its state and every attempt' })
  @ApiOkResponse({ type: DeliveryPageDto })
  @ApiProblems('validation_failed', 'invalid_name', 'invalid_cursor', 'subscription_not_found')
  deliveries(@CurrentProject() project: ProjectContext, @Param('id') id: string, @Query() query: ListDeliveriesQuery): Promise<DeliveryPageDto> {
    return this.subscriptions.deliveries(project, id, query);
  }
}
