import { Foundation1764320000000 } from './1764320000000-Foundation';
import { ReleaseManagement1764330000000 } from './1764330000000-ReleaseManagement';
import { NodeCache1764360000000 } from './1764360000000-NodeCache';

/** Every migration, oldest first. Listed explicitly so the same list works from ts and from dist. */
export const MIGRATIONS = [Foundation1764320000000, ReleaseManagement1764330000000, NodeCache1764360000000];
