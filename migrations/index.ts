import { Foundation1764320000000 } from './1764320000000-Foundation';
import { Governance1764350000000 } from './1764350000000-Governance';

/** Every migration, oldest first. Listed explicitly so the same list works from ts and from dist. */
export const MIGRATIONS = [Foundation1764320000000, Governance1764350000000];
