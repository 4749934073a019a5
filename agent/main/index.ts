export { startAgent, type AgentOptions, type RunningAgent } from './agent.js';
