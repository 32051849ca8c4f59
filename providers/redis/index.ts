// cliffracer/redis: nameko-redis's Redis dependency on ioredis (an optional peer dependency loaded
// only by this entry). Users' guide: docs/providers.md.
export {
  DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  DEFAULT_REDIS_MAX_RETRIES_PER_REQUEST,
  Redis,
  RedisProvider,
  RedisUnavailable,
  REDIS_URIS_KEY,
  type RedisClient,
} from "./provider";
export type { RedisOptions } from "ioredis";
