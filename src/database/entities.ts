import { ApiToken } from '../auth/api-token.entity';
import { Principal } from '../auth/principal.entity';
import { AuditEvent } from '../audit/audit-event.entity';
import { Endpoint, EndpointRoute } from '../endpoints/endpoint.entity';
import { Model } from '../models/model.entity';
import { ProjectMember } from '../projects/project-member.entity';
import { Project } from '../projects/project.entity';
import { Tag, TagHistoryEntry } from '../tags/tag.entity';
import { ModelVersion } from '../versions/model-version.entity';

export const ENTITIES = [Principal, ApiToken, Project, ProjectMember, Model, ModelVersion, AuditEvent, Tag, TagHistoryEntry, Endpoint, EndpointRoute];
