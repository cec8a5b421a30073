import pino, { type Logger } from 'pino';

/**
 * JSON logs (pino). Request loggers are children carrying `reqId`, so every line of a
 * request can be found by it. Values of dataset fields are never logged.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'hz-share-gateway' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ['req.headers.authorization', '*.password', 'config.database.url'], censor: '[redacted]' },
    },
    destination,
  );
}
