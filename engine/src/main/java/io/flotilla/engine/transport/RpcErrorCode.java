package io.flotilla.engine.transport;

/** Why a server answered an RPC with an error. Application errors travel in the payload instead. */
public enum RpcErrorCode {
  /** No handler is registered for the method on that node. */
  UNKNOWN_METHOD,
  /** The handler threw or failed its future; the message says why. */
  HANDLER_FAILED,
  /** The handler's response was larger than the maximum frame size. */
  RESPONSE_TOO_LARGE,
  /** The server is shutting down. */
  SHUTTING_DOWN,
  /** A code this version does not know (a newer server). */
  UNKNOWN
}
