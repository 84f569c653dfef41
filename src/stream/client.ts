import { ApiError, type ErrorDetail } from "../http/errors";
import { streamObjectName, type StreamFailure } from "./protocol";

/** The Durable Object that owns (org, stream). */
export function streamObject(env: Env, org: string, stream: string) {
	return env.STREAM.get(env.STREAM.idFromName(streamObjectName(org, stream)));
}

/** The error for a failed change; refuseToken: the route's answer to an unknown or revoked token. */
export function failureToError(failure: StreamFailure, refuseToken: () => ApiError): ApiError {
	if (failure.code === "token_revoked") return refuseToken();
	return new ApiError(failure.status, failure.code, failure.message, failure.details as ErrorDetail[] | undefined);
}
