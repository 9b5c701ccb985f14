// WebSocket close codes the server sends (RFC 6455 section 7.4 and the IANA registry), defined once.

/** 1000: a sideband whose call has ended (its purpose is fulfilled). */
export const CLOSE_CALL_ENDED = 1000;
/** 1001: the server is going away (shutdown). */
export const CLOSE_GOING_AWAY = 1001;
/** 1008: policy violation (a slow reader, a refused key, an unknown or someone else's call). */
export const CLOSE_POLICY = 1008;
/** 1008 as well: a sideband refused for an unknown (or someone else's) call. */
export const CLOSE_UNKNOWN_CALL = CLOSE_POLICY;
/** 1013: try again later (admission refused for load). */
export const CLOSE_TRY_AGAIN_LATER = 1013;
