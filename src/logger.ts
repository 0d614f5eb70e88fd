/**
 * The structured logger (pino). Messages are constant strings; data goes in fields, so a log
 * search for `crm_notes_migration_halted` finds every halt. Secrets are redacted by path.
 */
import { pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level?: string;
  /** Service name, written as `name` on every line. */
  name?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to read them back. */
  destination?: pino.DestinationStream;
}

const REDACT_PATHS = [
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'config.crmApiAuth',
  'config.apiPassword',
  'config.s3SecretAccessKey',
  'config.readApiToken',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const pinoOptions: pino.LoggerOptions = {
    name: options.name ?? 'crm-notes-migrator',
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/** A logger that drops everything: for unit tests and pure callers that must not print. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
