/**
 * The host's logger: pino, JSON lines on standard error (standard output is
 * left to pipeline data and the summary). Plugins log through the same
 * logger, tagged with their node and plugin.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

/** Levels accepted by `--log-level`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;

/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger writing JSON lines to `destination` (standard error by default). */
export function createLogger(level: LogLevel, destination: DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino({ level, base: { app: 'weir' } }, destination);
}
