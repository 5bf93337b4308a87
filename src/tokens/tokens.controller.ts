import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../common/http/api-problems.decorator';
import { Authenticated, CurrentActor, CurrentAuth } from '../auth/access.decorator';
import { Actor, AuthContext } from '../auth/auth-context';
import { CreatedTokenDto, CreateTokenDto, ListTokensQuery, TokenDto, TokenPageDto } from './dto/token.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@Controller('api/v1/tokens')
export class TokensController {
  constructor(@Inject(TokensService) private readonly tokens: TokensService) {}

  @Post()
  @Authenticated()
  @ApiOperation({ summary: 'Create an API token; the secret is in this response only' })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiProblems('validation_failed', 'invalid_name', 'forbidden', 'project_not_found')
  create(@CurrentAuth() auth: AuthContext, @CurrentActor() actor: Actor, @Body() body: CreateTokenDto): Promise<CreatedTokenDto> {
    return this.tokens.create(auth, actor, body);
  }

  @Get()
  @Authenticated()
  @ApiOperation({ summary: "List the caller's tokens (never their secrets)" })
  @ApiOkResponse({ type: TokenPageDto })
  @ApiProblems('validation_failed', 'invalid_cursor', 'forbidden', 'principal_not_found')
  list(@CurrentAuth() auth: AuthContext, @Query() query: ListTokensQuery): Promise<TokenPageDto> {
    return this.tokens.list(auth, query);
  }

  @Get(':id')
  @Authenticated()
  @ApiOperation({ summary: 'Show one token' })
  @ApiOkResponse({ type: TokenDto })
  @ApiProblems('token_not_found')
  get(@CurrentAuth() auth: AuthContext, @Param('id') id: string): Promise<TokenDto> {
    return this.tokens.get(auth, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated()
  @ApiOperation({ summary: 'Revoke a token; it is refused from then on' })
  @ApiNoContentResponse({ description: 'Revoked (or already revoked)' })
  @ApiProblems('token_not_found')
  revoke(@CurrentAuth() auth: AuthContext, @CurrentActor() actor: Actor, @Param('id') id: string): Promise<void> {
    return this.tokens.revoke(auth, actor, id);
  }
}
