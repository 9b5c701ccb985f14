// The logging surface the engine needs; a pino logger satisfies it.

export interface EngineLogger {
  info(data: object, message: string): void;
  warn(data: object, message: string): void;
  error(data: object, message: string): void;
}

export const silentLogger: EngineLogger = {
  info() {},
  warn() {},
  error() {},
};
