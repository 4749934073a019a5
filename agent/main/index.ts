export { startAgent, type AgentOptions, type RunningAgent } from './agent.js';
export { AgentSupervisor, type SupervisorOptions } from './supervisor.js';
