import { UserNameIdentityToken, type ISessionContext } from 'node-opcua';
import type { OpcuaUser } from './users.js';

/** Who called: a user from the users file, or nobody (anonymous). */
export function callerOf(context: ISessionContext, users: readonly OpcuaUser[]): OpcuaUser | undefined {
  const token = context.session?.userIdentityToken;
  if (!(token instanceof UserNameIdentityToken) || !token.userName) return undefined;
  return users.find((user) => user.name === token.userName);
}

/** The `by` of a command from OPC UA: opcua:<user>. */
export function commandAuthor(user: OpcuaUser): string {
  return `opcua:${user.name}`;
}
