// The package's programmatic API, for people who embed Earshot or write agents of their own
// (docs/agents.md): define agents and tools, load the configuration, start the server.
export { defineAgent, type AgentDefinition, type GenerationSettings } from './agent/agent.ts';
export { defineTool, type ServerTool, type ToolContext } from './agent/tool.ts';
export { loadConfig } from './config/load.ts';
export { configSchema, defaultConfig, type EarshotConfig } from './config/schema.ts';
export { EarshotError, ERROR_CODES, type ErrorCode } from './errors.ts';
export { startServer, type RunningServer, type StartServerOptions } from './main.ts';
export { createLogger, type Logger } from './observability/logger.ts';
