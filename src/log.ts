// pino JSON logs. Anything that may hold a secret is redacted by path, whatever logs it.
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACT_PATHS = [
  'token',
  '*.token',
  'secrets',
  '*.secrets',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.headers.authorization',
  'request.headers',
  '*.request.headers',
];

export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino({ level, base: { app: 'medic' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

export type { Logger };
