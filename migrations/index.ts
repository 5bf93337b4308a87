import { Foundation1764320000000 } from './1764320000000-Foundation';
import { ReleaseManagement1764330000000 } from './1764330000000-ReleaseManagement';
import { Artifacts1764340000000 } from './1764340000000-Artifacts';
import { Governance1764350000000 } from './1764350000000-Governance';
import { NodeCache1764360000000 } from './1764360000000-NodeCache';
import { TokenPublicIds1764372120000 } from './1764372120000-TokenPublicIds';
import { FleetScale1764384000000 } from './1764384000000-FleetScale';
import { SchedulerIndex1764390000000 } from './1764390000000-SchedulerIndex';

/** Every migration, oldest first. Listed explicitly so the same list works from ts and from dist. */
export const MIGRATIONS = [Foundation1764320000000, ReleaseManagement1764330000000, Artifacts1764340000000, Governance1764350000000, NodeCache1764360000000, TokenPublicIds1764372120000, FleetScale1764384000000, SchedulerIndex1764390000000];
