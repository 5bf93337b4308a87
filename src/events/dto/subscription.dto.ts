import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { PageQuery } from '../../common/pagination/list-query.dto';
import { EVENT_TYPES, EventType } from '../event-types';

export class CreateSubscriptionDto {
  @ApiProperty({ description: 'Where deliveries are POSTed; http:// or https:// only', example: 'https://ci.example.com/hooks/wharf' })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ enum: EVENT_TYPES, isArray: true, example: ['version.ready', 'tag.moved'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @IsIn(EVENT_TYPES, { each: true })
  events!: EventType[];

  @ApiPropertyOptional({
    description: 'The signing secret (write-only, 16-256 characters). Left out, one is generated and returned once.',
    writeOnly: true,
  })
  @IsOptional()
  @IsString()
  @Length(16, 256)
  secret?: string;

  @ApiPropertyOptional({ maxLength: 1024 })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  description?: string;
}

export class SubscriptionDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'vision' })
  project!: string;

  @ApiProperty()
  url!: string;

  @ApiProperty({ enum: EVENT_TYPES, isArray: true })
  events!: EventType[];

  @ApiProperty()
  description!: string;

  @ApiProperty({ example: 'alice' })
  createdBy!: string;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;
}

export class CreatedSubscriptionDto extends SubscriptionDto {
  @ApiPropertyOptional({ description: 'The generated signing secret, in this response only (absent when you chose the secret)' })
  secret?: string;
}

export class SubscriptionPageDto {
  @ApiProperty({ type: [SubscriptionDto] })
  items!: SubscriptionDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class DeliveryAttemptDto {
  @ApiProperty()
  attempt!: number;

  @ApiProperty({ type: String, format: 'date-time' })
  attemptedAt!: string;

  @ApiProperty({ type: Number, nullable: true, description: "The subscriber's HTTP status; null when no answer came" })
  status!: number | null;

  @ApiProperty({ type: String, nullable: true })
  error!: string | null;

  @ApiProperty()
  durationMs!: number;
}

export class DeliveryDto {
  @ApiProperty({ format: 'uuid', description: 'Also sent as the Wharf-Delivery header' })
  id!: string;

  @ApiProperty({ format: 'uuid', description: 'The event id (the body\'s `id`); the same for every subscription' })
  eventId!: string;

  @ApiProperty({ enum: EVENT_TYPES })
  event!: string;

  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] })
  state!: string;

  @ApiProperty()
  attempts!: number;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the next attempt is due (pending only)' })
  nextAttemptAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  deliveredAt!: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The body that is (or was) POSTed' })
  payload!: Record<string, unknown>;

  @ApiProperty({ type: [DeliveryAttemptDto] })
  log!: DeliveryAttemptDto[];
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto], description: 'Newest first' })
  items!: DeliveryDto[];

  @ApiProperty({ type: String, nullable: true })
  nextCursor!: string | null;
}

export class ListDeliveriesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'failed'])
  state?: 'pending' | 'delivered' | 'failed';
}
