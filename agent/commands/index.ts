export { CommandHandler, type CommandResult, type AlarmCommands, type OutputCommands } from './handler.js';
export { operatorCommand, type OperatorCommand, type OperatorCommandInput } from './schema.js';
